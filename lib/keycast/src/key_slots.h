// One channel's keys: previous (until its grace runs out), current and next,
// selected by key_id with three compares. A datagram carrying the next key's
// id switches (next becomes current, current previous), but only once it
// descrambled: the caller calls switch_to_next(), so a forged GCM datagram
// cannot. Ids not held are judged: worth fetching, too old (older than the
// previous key; without one, older than the key just before current) or too
// far ahead (more than the window beyond the newest key held).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "keycast/key_source.h"
#include "pktparse/key.h"
#include "keycast/replay_window.h"

namespace keycast::detail {

using Clock = std::chrono::steady_clock;

// A prepared key and what the key manager said about its time.
struct SlotKey {
  std::unique_ptr<pktparse::PreparedKey> key;
  std::uint32_t lifetime_ms = 0;
  std::uint32_t remaining_ms = 0;
  Clock::time_point received{};
  ReplayWindow replay;  // GCM seqs delivered under this key

  std::uint32_t id() const noexcept { return key->key_id(); }
};

class KeySlots {
 public:
  // found_next: `slot` is the next key; switch_to_next() once the datagram
  // descrambled. unknown: worth fetching.
  enum class Select : std::uint8_t { found, found_next, unknown, too_old, expired, too_far_ahead };

  // ahead_window: how far beyond the newest key held an id may be and still
  // be fetched (a sender moves +1 per crypto-period); at least 1.
  explicit KeySlots(std::uint32_t ahead_window = 16) : window_(ahead_window > 0 ? ahead_window : 1) {}

  // The key for key_id, or why there is none.
  Select select(std::uint32_t key_id, Clock::time_point now, SlotKey*& slot) noexcept;
  // Next becomes current, current previous (for the grace period).
  void switch_to_next(Clock::time_point now);

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
  std::uint32_t window_;
};

}  // namespace keycast::detail
