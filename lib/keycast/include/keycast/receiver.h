// keycast::Receiver: descrambles keycast datagrams on ordinary hosts
// (wire-format.md, architecture.md "Descramble side"). Per channel it keeps
// the previous (for a grace period after a switch), current and next keys,
// fetches the next key at Y (jittered) and on a KEY_NOTICE, holds datagrams
// whose key is still being fetched, and counts every drop by reason.
//
// Threads: process(), poll_released(), wait_ready(), take_failures(),
// take_hold_drops(), holding() and counters() belong to one thread, the
// owner (wake_fd() may be polled anywhere). Keys are fetched on the key
// source's thread, prepared there, and handed over through an inbox that the
// owner drains when an atomic flag says it is not empty: no lock per datagram
// unless a key has just arrived.
//
// Against forged and replayed datagrams (nothing in a datagram is trusted
// before its key has authenticated it, and xor/CTR never authenticate):
// - KEYMGR_ADDR is honoured only for a configured endpoint; with channels
//   configured, other channels are dropped (unknown_channel).
// - A key id is fetched only when plausible: not older than the previous key
//   (without one, than the key just before current), not more than key_window
//   beyond the newest key held (key_too_old, key_too_far_ahead). A far-ahead
//   id instead prompts a fetch of current and next, so a receiver that fell
//   behind (or whose key manager's ids jumped: a promoted replica) catches up
//   on the key manager's word, not the datagram's; the datagram is held for
//   that answer and dropped if it does not bring its key.
// - Fetches a datagram prompts (by id, on a KEY_NOTICE, for held datagrams,
//   the catch-up above) spend a per-channel token bucket, at most a few in
//   flight; refused ones count as key_requests_rate_limited. Scheduled
//   fetches of current and next (start, Y, retries) do not spend it.
// - A datagram under the next key switches keys only once it descrambled
//   (for GCM: its tag verified), and only then is its KEY_REMAINING_MS used.
// - aes128-gcm: a per-key replay window (1024 seqs behind the highest seen)
//   drops a (key_id, seq) already delivered (replayed) or too far behind
//   (replay_too_old). xor, xor-inv and the CTR suites carry no authenticity,
//   so a replayed datagram is descrambled and delivered again: no defence is
//   possible there; use GCM where that matters.
// All of this is fixed-size state per channel: nothing allocated per datagram.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "keycast/drop.h"
#include "keycast/key_source.h"
#include "kmclient/config.h"
#include "pktparse/suite.h"

namespace keycast {

struct ChannelConfig {
  std::uint32_t id = 0;
  std::optional<pktparse::Suite> suite;  // datagrams of another suite are dropped
};

struct ReceiverOptions {
  // Empty: any channel, learned from the datagrams (keys fetched on first sight).
  std::vector<ChannelConfig> channels;
  std::chrono::milliseconds grace{2000};
  std::chrono::milliseconds hold_timeout{50};
  std::size_t hold_limit = 64;  // held datagrams per channel
  double fetch_at_remaining = 0.25;  // Y, as a fraction of the key's lifetime
  double fetch_jitter = 0.10;        // +- this fraction of the wait until Y
  std::chrono::milliseconds retry_after{500};  // after a failed or fruitless fetch
  // Tests inject time; steady_clock::now when empty.
  std::function<std::chrono::steady_clock::time_point()> clock;
  std::uint64_t jitter_seed = 0;  // 0: random
  // Key ids more than this beyond the newest key held are not fetched (at least 1).
  std::uint32_t key_window = 16;
  // Without configured channels: at most this many are learned from
  // datagrams (forged channel ids would otherwise each cost memory and a fetch).
  std::uint32_t max_learned_channels = 64;
  // Per channel, fetches prompted by datagrams: a burst of this many, then
  // key_requests_per_second.
  std::uint32_t key_request_burst = 16;
  double key_requests_per_second = 20.0;  // a 200 ms crypto-period needs ~5 (notice + by id)
};

struct Outcome {
  enum class Kind : std::uint8_t {
    clear,    // `clear` is the original UDP payload, descrambled in place
    held,     // copied into the channel's hold queue; poll_released() gives it back
    notice,   // a KEY_NOTICE, consumed
    dropped,  // `reason` says why; counted
  };
  Kind kind = Kind::dropped;
  Drop reason = Drop::ok;
  std::uint32_t channel_id = 0;  // 0 when the header did not parse
};

#define KEYCAST_EVENT_LIST(X)                                               \
  X(received, "datagrams given to process()")                               \
  X(descrambled, "datagrams descrambled, at once or after a hold")          \
  X(held, "datagrams held while their key was fetched")                     \
  X(released, "held datagrams released descrambled")                        \
  X(notices, "KEY_NOTICE datagrams")                                        \
  X(dropped, "datagrams dropped, all reasons")                              \
  X(key_requests, "key fetches requested")                                  \
  X(keys_fetched, "keys received and prepared")                             \
  X(fetch_failures, "key fetches that failed")                              \
  X(key_requests_rate_limited, "key fetches a datagram prompted, refused: rate limit or too many in flight") \
  X(keymgr_addr_honoured, "KEYMGR_ADDR TLVs that put an allowed endpoint first") \
  X(keymgr_addr_ignored, "KEYMGR_ADDR TLVs naming an endpoint not configured")

enum class Event : std::uint8_t {
#define KEYCAST_EVENT_ENUM(name, text) name,
  KEYCAST_EVENT_LIST(KEYCAST_EVENT_ENUM)
#undef KEYCAST_EVENT_ENUM
};
inline constexpr std::size_t kEventCount = 0
#define KEYCAST_EVENT_COUNT(name, text) +1
    KEYCAST_EVENT_LIST(KEYCAST_EVENT_COUNT)
#undef KEYCAST_EVENT_COUNT
    ;
const char* event_name(Event e) noexcept;

struct Counters {
  std::uint64_t events[kEventCount] = {};
  std::uint64_t drops[kDropCount] = {};
  std::uint64_t fetches_answered = 0;  // results that carried keys
  std::uint64_t fetch_latency_us_sum = 0;
  std::uint64_t fetch_latency_us_max = 0;

  std::uint64_t operator[](Event e) const noexcept { return events[static_cast<std::size_t>(e)]; }
  std::uint64_t operator[](Drop d) const noexcept { return drops[static_cast<std::size_t>(d)]; }
};

// A fetch that failed, for the application to judge (exit, retry, log).
struct FetchFailure {
  std::uint32_t channel_id = 0;
  std::uint32_t key_id = 0;  // 0: current and next
  FetchError error = FetchError::other;
  std::string message;
  bool channel_has_keys = false;  // whether the channel still has a current key
  bool held_off = false;          // as FetchResult::held_off: a repeat of an earlier failure
};

// Datagrams of one key dropped after waiting hold_timeout for it (Drop::
// hold_timeout), for the application to say why: consecutive drops of the
// same (channel, key) make one record.
struct HoldDrop {
  std::uint32_t channel_id = 0;
  std::uint32_t key_id = 0;
  std::uint64_t datagrams = 0;
  bool fetch_in_flight = false;  // asked for and still unanswered when the hold ran out
  std::uint32_t current_key = 0;  // the channel's keys then; 0: none
  std::uint32_t next_key = 0;
};

class Receiver {
 public:
  // Fetches keys through a kmclient::KeymgrClient on a thread of its own;
  // KEYMGR_ADDR TLVs are honoured only for config.endpoints.
  Receiver(kmclient::ClientConfig config, ReceiverOptions options);
  // Test seam and alternative sources: keys from `source`; KEYMGR_ADDR TLVs
  // honoured only for `allowed` (an index into it goes to prefer_endpoint).
  Receiver(std::unique_ptr<KeySource> source, ReceiverOptions options, std::vector<kmclient::Endpoint> allowed = {});
  ~Receiver();
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  Outcome process(std::span<std::uint8_t> udp_payload, std::span<std::uint8_t>& clear);
  // The same with the time the datagram's batch arrived (steady_clock, or
  // ReceiverOptions::clock when set), read once by the caller for a whole
  // recvmmsg batch instead of once per datagram.
  Outcome process(std::span<std::uint8_t> udp_payload, std::span<std::uint8_t>& clear,
                  std::chrono::steady_clock::time_point now);

  // Hands back held datagrams, per channel in arrival order, whose key has
  // arrived; drops (and counts) those past the hold timeout. Also retires
  // previous keys past their grace and starts due fetches: call it after
  // every batch and at least every few milliseconds. Returns how many were
  // released. Each `clear` stays valid until the next process() call, so a
  // caller may queue them all and write them in one batch.
  using ReleaseFn = std::function<void(std::uint32_t channel_id, std::span<std::uint8_t> clear)>;
  std::size_t poll_released(const ReleaseFn& fn);

  // Waits until every configured channel has a current key or a failed
  // fetch; true when all have keys. Learned channels: true at once.
  bool wait_ready(std::chrono::milliseconds timeout);

  // Opens the key manager connection now, waiting at most `timeout`; true
  // once it is up. With learned channels the first datagram then waits for
  // one round trip, not for a connection to be set up (TLS, HELLO).
  bool connect(std::chrono::milliseconds timeout);

  // Failed fetches since the last call.
  std::vector<FetchFailure> take_failures();
  // Hold timeouts since the last call (at most 64 records kept between calls).
  std::vector<HoldDrop> take_hold_drops();

  Counters counters() const;
  bool has_current_key(std::uint32_t channel_id) const;

  // An eventfd made readable by every fetch answered: an owner that polls it
  // beside its sockets while holding(), reads it (eventfd_read) when it is
  // readable and then calls poll_released(), sends held datagrams as soon as
  // their key arrives instead of at the next datagram or timeout. -1 if it
  // could not be made.
  int wake_fd() const noexcept;
  // Whether any channel holds datagrams for a key.
  bool holding() const noexcept;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace keycast
