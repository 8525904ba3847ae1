// The USAGE_REPORTs of a scrambling gateway (control thread), kept until the
// key manager takes them. A report that cannot be sent now (every endpoint
// down, timing out or unavailable) waits, in order, and is tried again with
// backoff (1 s, doubling up to 30 s) and once more at stop. A report the key
// manager refuses for good (an ERROR such as not_entitled) is given up at
// once, and at most kMaxWaiting wait: beyond that the oldest is given up.
// Nothing is dropped silently: every report given up is logged with its
// figures (so it can still be billed by hand) and counted. A report taken
// after an endpoint it was sent to closed or went silent before answering
// may have been counted by that one too (the protocol cannot tell a resent
// report): it is logged with its figures and counted as maybe_twice.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

namespace gateway {

struct UsageReport {
  std::uint32_t channel_id = 0;
  std::uint32_t key_id = 0;
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  bool operator==(const UsageReport&) const = default;
};

struct UsageStats {
  std::uint64_t sent = 0;             // reports the key manager took
  std::uint64_t failed_attempts = 0;  // sends that failed (the report waited)
  std::uint64_t lost = 0;             // reports given up: refused, or never taken (logged)
  std::uint64_t maybe_twice = 0;      // taken after an endpoint sent them gave no answer (logged)
  std::uint64_t waiting = 0;          // reports waiting now
};

class UsageReports {
 public:
  static constexpr std::size_t kMaxWaiting = 4096;
  static constexpr std::uint64_t kFirstRetryMs = 1000;
  static constexpr std::uint64_t kMaxRetryMs = 30000;

  // send: one blocking attempt; why says what went wrong unless taken, and
  // the endpoints sent the report that did not answer are appended to
  // unanswered.
  // log: one line for the operator.
  enum class Sent { taken, later, refused };
  using Send = std::function<Sent(const UsageReport&, std::string* why, std::vector<std::string>* unanswered)>;
  using Log = std::function<void(const std::string&)>;
  UsageReports(Send send, Log log);

  // Queues r behind those waiting; send_due() sends it.
  void add(const UsageReport& r, std::uint64_t now_ms);
  // Sends the waiting reports once their retry time has come.
  void send_due(std::uint64_t now_ms);
  // One attempt for everything waiting, retry time or not: true when none is
  // left; otherwise *why says why the first left was not taken.
  bool try_all(std::string* why);
  // At stop: try_all(), then what the key manager did not take is given up.
  void flush();

  UsageStats stats() const;
  const std::deque<UsageReport>& waiting() const noexcept { return waiting_; }

 private:
  // Sends from the front until one fails (false, with why); true if none is left.
  bool send_waiting(std::string* why);
  void give_up(const UsageReport& r, const std::string& why);

  Send send_;
  Log log_;
  std::deque<UsageReport> waiting_;
  std::vector<std::string> front_unanswered_;  // endpoints sent waiting_.front() that did not answer
  std::uint64_t next_try_ms_ = 0;
  std::uint64_t backoff_ms_ = kFirstRetryMs;
  std::uint64_t waiting_since_ms_ = 0;  // when the queue last became non-empty
  bool failing_ = false;                // a send failed since then
  UsageStats stats_;
};

}  // namespace gateway
