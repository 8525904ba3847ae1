// Receiver::Impl: the channels, the inbox from the key source's thread, and
// the counters. Owner-thread state except the inbox (mutex + atomic flag).
#pragma once

#include <sys/eventfd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <random>
#include <unordered_map>

#include "hold_queue.h"
#include "key_slots.h"
#include "keycast/receiver.h"
#include "keymgr_allow.h"
#include "pktparse/keycast_header.h"
#include "keycast/request_limits.h"

namespace keycast {

class Receiver::Impl final : public KeySink {
 public:
  using Clock = detail::Clock;

  Impl(std::unique_ptr<KeySource> source, ReceiverOptions options, const std::vector<kmclient::Endpoint>& allowed);
  ~Impl() override;

  void deliver(FetchResult&& result) noexcept override;

  Outcome process(std::span<std::uint8_t> udp_payload, std::span<std::uint8_t>& clear, Clock::time_point t);
  std::size_t poll_released(const ReleaseFn& fn);
  bool wait_ready(std::chrono::milliseconds timeout);
  bool connect(std::chrono::milliseconds timeout) { return source_->connect(timeout); }
  std::vector<FetchFailure> take_failures();
  std::vector<HoldDrop> take_hold_drops();
  const Counters& counters() const noexcept { return counters_; }
  bool has_current_key(std::uint32_t channel_id) const;
  int wake_fd() const noexcept { return wake_fd_; }
  bool holding() const noexcept;
  Clock::time_point now() const { return options_.clock ? options_.clock() : Clock::now(); }

 private:
  // One fetch result with its keys prepared on the source's thread.
  struct Prepared {
    std::uint32_t channel_id = 0;
    std::uint32_t key_id = 0;
    std::vector<std::pair<detail::SlotKey, KeyRole>> keys;
    std::optional<FetchError> error;
    std::string message;
    bool held_off = false;
    std::chrono::microseconds latency{0};
  };

  struct Channel {
    explicit Channel(const ReceiverOptions& o)
        : slots(o.key_window), hold(o.hold_limit), budget(o.key_request_burst, o.key_requests_per_second) {}
    detail::KeySlots slots;
    detail::HoldQueue hold;
    TokenBucket budget;  // fetches prompted by datagrams
    std::optional<pktparse::Suite> suite;
    InFlight requested;  // fetches not answered yet
    std::optional<Clock::time_point> fetch_at;  // when to ask for current and next
    Clock::time_point retry_not_before{};       // scheduled current-and-next fetches, after a failure
    Clock::time_point held_retry_not_before{};  // fetches datagrams prompt, after a failed one by id
    bool failed = false;
    bool end_from_wire = false;  // current key's end set from KEY_REMAINING_MS
  };
  // Who asks for a fetch: the schedule (start, Y, retries) or a datagram,
  // which spends the channel's budget.
  enum class Prompt : bool { schedule, datagram };

  Channel* known_channel(std::uint32_t id);
  // A channel first seen in a datagram, when the receiver learns channels and
  // has room for one more; null otherwise. Its keys are not asked for yet.
  Channel* learn_channel(std::uint32_t id);
  void drain(Clock::time_point now);
  void apply(Prepared& p, Clock::time_point now);
  void request(Channel& ch, std::uint32_t channel_id, std::uint32_t key_id, Clock::time_point now, Prompt by);
  void schedule_next_fetch(Channel& ch, Clock::time_point now, bool after_fetch);
  void maybe_fetch(Channel& ch, std::uint32_t channel_id, Clock::time_point now);
  void after_switch(Channel& ch, Clock::time_point now);
  void check_keymgr_addr(const pktparse::KcHeader& h);
  Outcome hold(Channel& ch, const pktparse::KcHeader& h, std::span<const std::uint8_t> datagram, Clock::time_point now);
  // No next key held and the current one ended (or none): the sender may be
  // far ahead of what this channel knows.
  static bool stale(const Channel& ch, Clock::time_point t) noexcept;
  Outcome hold_far_ahead(Channel& ch, const pktparse::KcHeader& h, std::span<const std::uint8_t> datagram,
                         Clock::time_point t);
  Outcome refuse(Channel& ch, detail::KeySlots::Select why, std::uint32_t channel_id, Clock::time_point now);
  Drop open(Channel& ch, detail::SlotKey& slot, bool is_next, const pktparse::KcHeader& h,
            std::span<std::uint8_t> datagram, std::span<std::uint8_t>& clear, Clock::time_point now);
  Outcome drop(Drop reason, std::uint32_t channel_id);
  void note_hold_drop(const Channel& ch, std::uint32_t channel_id, std::uint32_t key_id);
  void count(Event e, std::uint64_t n = 1) { counters_.events[static_cast<std::size_t>(e)] += n; }

  ReceiverOptions options_;
  detail::KeymgrAllowList allow_;
  std::size_t preferred_endpoint_ = 0;
  std::unordered_map<std::uint32_t, Channel> channels_;
  Counters counters_;
  std::vector<FetchFailure> failures_;
  std::vector<HoldDrop> hold_drops_;
  std::mt19937_64 rng_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Prepared> inbox_;
  std::atomic<bool> pending_{false};
  int wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);  // written per answer; read by the owner (wake_fd())

  std::unique_ptr<KeySource> source_;  // last: stopped first, before the inbox goes
};

}  // namespace keycast
