// One channel's keys: previous (until its grace runs out), current and next,
// selected by key_id with three compares. A datagram carrying the next key's
// id switches: next becomes current, current becomes previous.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "keycast/key_source.h"
#include "pktparse/key.h"

namespace keycast::detail {

using Clock = std::chrono::steady_clock;

// A prepared key and what the key manager said about its time.
struct SlotKey {
  std::unique_ptr<pktparse::PreparedKey> key;
  std::uint32_t lifetime_ms = 0;
  std::uint32_t remaining_ms = 0;
  Clock::time_point received{};

  std::uint32_t id() const noexcept { return key->key_id(); }
};

class KeySlots {
 public:
  enum class Select : std::uint8_t { found, unknown, too_old, expired };

  // The key for key_id, or why there is none. `switched` is set when this
  // datagram made next current.
  Select select(std::uint32_t key_id, Clock::time_point now, pktparse::PreparedKey*& key, bool& switched) noexcept;

  // Places a fetched key: by the key manager's label while there is no
  // current key, else by id relative to current. Duplicates are ignored.
  void install(SlotKey k, KeyRole role, Clock::time_point now, std::chrono::milliseconds grace);

  // Wipes the previous key once its grace is over.
  void expire(Clock::time_point now) noexcept;

  bool holds(std::uint32_t key_id) const noexcept;
  const SlotKey* current() const noexcept { return cur_.key ? &cur_ : nullptr; }
  const SlotKey* next() const noexcept { return next_.key ? &next_ : nullptr; }
  const SlotKey* previous() const noexcept { return prev_.key ? &prev_ : nullptr; }
  // When the current key stops being used (its remaining time from when it
  // became current); set by a switch, an install as current, or the wire.
  Clock::time_point current_end() const noexcept { return cur_end_; }
  void set_current_end(Clock::time_point t) noexcept { cur_end_ = t; }

 private:
  void retire_current(Clock::time_point now);

  SlotKey prev_, cur_, next_;
  Clock::time_point prev_until_{};
  Clock::time_point cur_end_{};
  std::uint32_t expired_id_ = 0;
  std::chrono::milliseconds grace_{2000};
};

}  // namespace keycast::detail
