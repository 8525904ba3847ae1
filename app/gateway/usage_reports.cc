// UsageReports: the waiting queue, its backoff, and what is given up.
#include "usage_reports.h"

#include <algorithm>
#include <utility>

namespace gateway {

namespace {

std::string joined(const std::vector<std::string>& names) {
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

std::string describe(const UsageReport& r) {
  return "channel " + std::to_string(r.channel_id) + " key " + std::to_string(r.key_id) + " (" +
         std::to_string(r.packets) + " packets, " + std::to_string(r.bytes) + " bytes)";
}

}  // namespace

UsageReports::UsageReports(Send send, Log log) : send_(std::move(send)), log_(std::move(log)) {}

void UsageReports::add(const UsageReport& r, std::uint64_t now_ms) {
  if (waiting_.size() == kMaxWaiting) {
    give_up(waiting_.front(), "too many usage reports waiting");
    waiting_.pop_front();
    front_unanswered_.clear();
  }
  if (waiting_.empty()) {
    waiting_since_ms_ = now_ms;
    next_try_ms_ = now_ms;
  }
  waiting_.push_back(r);
}

void UsageReports::send_due(std::uint64_t now_ms) {
  if (waiting_.empty() || now_ms < next_try_ms_) return;
  std::string why;
  if (send_waiting(&why)) {
    if (failing_) log_("usage reports delivered, " + std::to_string(now_ms - waiting_since_ms_) + " ms late");
    failing_ = false;
    backoff_ms_ = kFirstRetryMs;
    return;
  }
  log_("usage report for " + describe(waiting_.front()) + " not taken: " + why + " (" +
       std::to_string(waiting_.size()) + " waiting, next try in " + std::to_string(backoff_ms_ / 1000) + " s)");
  failing_ = true;
  next_try_ms_ = now_ms + backoff_ms_;
  backoff_ms_ = std::min(backoff_ms_ * 2, kMaxRetryMs);
}

bool UsageReports::try_all(std::string* why) { return waiting_.empty() || send_waiting(why); }

void UsageReports::flush() {
  std::string why;
  if (try_all(&why)) return;
  for (const UsageReport& r : waiting_) give_up(r, "not taken before the stop: " + why);
  waiting_.clear();
  front_unanswered_.clear();
}

UsageStats UsageReports::stats() const {
  UsageStats s = stats_;
  s.waiting = waiting_.size();
  return s;
}

bool UsageReports::send_waiting(std::string* why) {
  for (; !waiting_.empty(); waiting_.pop_front(), front_unanswered_.clear()) {
    const Sent sent = send_(waiting_.front(), why, &front_unanswered_);
    switch (sent) {
      case Sent::taken:
        ++stats_.sent;
        if (!front_unanswered_.empty()) {
          ++stats_.maybe_twice;
          log_("usage report taken after " + joined(front_unanswered_) +
               " gave no answer to it: it may be counted twice, there too: " + describe(waiting_.front()));
        }
        break;
      case Sent::refused:
        give_up(waiting_.front(), "refused: " + *why);
        break;
      case Sent::later:
        ++stats_.failed_attempts;
        return false;
    }
  }
  return true;
}

void UsageReports::give_up(const UsageReport& r, const std::string& why) {
  ++stats_.lost;
  log_("usage report given up (" + why + "): " + describe(r));
}

}  // namespace gateway
