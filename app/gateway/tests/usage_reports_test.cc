// UsageReports against a scripted key manager: sent at once when taken; kept
// in order and retried with doubling backoff (capped) while not; given up,
// logged with their figures and counted when refused, over the cap, or still
// waiting at stop.
#include "usage_reports.h"

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

namespace gateway {
namespace {

using Sent = UsageReports::Sent;

struct FakeKeymgr {
  std::deque<Sent> script;             // answers to come; taken once empty
  std::vector<UsageReport> attempts;   // every send, in order
  std::vector<UsageReport> taken;
  std::vector<std::string> log;
  std::deque<std::vector<std::string>> unanswered;  // per send: the endpoints that gave no answer

  UsageReports make() {
    return UsageReports(
        [this](const UsageReport& r, std::string* why, std::vector<std::string>* no_answer) {
          attempts.push_back(r);
          Sent s = Sent::taken;
          if (!script.empty()) {
            s = script.front();
            script.pop_front();
          }
          if (!unanswered.empty()) {
            no_answer->insert(no_answer->end(), unanswered.front().begin(), unanswered.front().end());
            unanswered.pop_front();
          }
          if (s == Sent::taken) taken.push_back(r);
          else *why = s == Sent::later ? "connection refused" : "not_entitled";
          return s;
        },
        [this](const std::string& line) { log.push_back(line); });
  }
  bool logged(const std::string& part) const {
    for (const std::string& l : log)
      if (l.find(part) != std::string::npos) return true;
    return false;
  }
};

struct Stats {
  std::uint64_t sent, failed_attempts, lost, waiting;
};

// As the control thread does: a finished key's report is queued, then sent
// at its tick.
void add(UsageReports& u, const UsageReport& r, std::uint64_t now_ms) {
  u.add(r, now_ms);
  u.send_due(now_ms);
}

void expect_stats(const UsageReports& u, Stats want) {
  const UsageStats s = u.stats();
  EXPECT_EQ(s.sent, want.sent);
  EXPECT_EQ(s.failed_attempts, want.failed_attempts);
  EXPECT_EQ(s.lost, want.lost);
  EXPECT_EQ(s.waiting, want.waiting);
}

TEST(UsageReports, TakenAtOnce) {
  FakeKeymgr km;
  UsageReports u = km.make();
  add(u, {1, 10, 5, 6580}, 0);
  ASSERT_EQ(km.taken.size(), 1u);
  EXPECT_EQ(km.taken[0].packets, 5u);
  EXPECT_EQ(km.taken[0].bytes, 6580u);
  expect_stats(u, {.sent = 1, .failed_attempts = 0, .lost = 0, .waiting = 0});
  EXPECT_TRUE(km.log.empty());
}

TEST(UsageReports, WaitsInOrderAndRetriesWithBackoff) {
  FakeKeymgr km;
  km.script = {Sent::later, Sent::later};
  UsageReports u = km.make();
  add(u, {1, 10, 1, 100}, 0);
  EXPECT_EQ(u.stats().waiting, 1u);
  EXPECT_TRUE(km.logged("usage report for channel 1 key 10 (1 packets, 100 bytes) not taken: connection refused"));
  add(u, {2, 20, 2, 200}, 10);  // queued behind, not sent before the retry time
  add(u, {3, 30, 3, 300}, 20);
  EXPECT_EQ(km.attempts.size(), 1u);
  u.send_due(999);
  EXPECT_EQ(km.attempts.size(), 1u);
  u.send_due(1000);  // first retry after 1 s: fails again
  EXPECT_EQ(km.attempts.size(), 2u);
  u.send_due(2999);  // then 2 s
  EXPECT_EQ(km.attempts.size(), 2u);
  u.send_due(3000);
  ASSERT_EQ(km.taken.size(), 3u);
  EXPECT_EQ(km.taken[0].channel_id, 1u);
  EXPECT_EQ(km.taken[1].channel_id, 2u);
  EXPECT_EQ(km.taken[2].channel_id, 3u);
  expect_stats(u, {.sent = 3, .failed_attempts = 2, .lost = 0, .waiting = 0});
  EXPECT_TRUE(km.logged("usage reports delivered, 3000 ms late"));
}

TEST(UsageReports, BackoffStopsDoublingAt30Seconds) {
  FakeKeymgr km;
  km.script.assign(10, Sent::later);
  UsageReports u = km.make();
  add(u, {1, 10, 1, 100}, 0);
  std::uint64_t now = 0;
  std::vector<std::uint64_t> gaps;
  for (int i = 0; i < 7; ++i) {
    const std::size_t before = km.attempts.size();
    std::uint64_t t = now;
    while (km.attempts.size() == before) u.send_due(++t);
    gaps.push_back(t - now);
    now = t;
  }
  EXPECT_EQ(gaps, (std::vector<std::uint64_t>{1000, 2000, 4000, 8000, 16000, 30000, 30000}));
}

// Sent to an endpoint that closed before answering, then taken elsewhere (in
// the same attempt, or a later one): logged with its figures and counted, as
// the first endpoint may have counted it too; the next report is not.
TEST(UsageReports, TakenAfterAnUnansweredSendIsCountedAsMaybeTwice) {
  FakeKeymgr km;
  km.script = {Sent::taken, Sent::later, Sent::taken, Sent::taken};
  km.unanswered = {{"127.0.0.1:7700", "127.0.0.1:7702"}, {"127.0.0.1:7701"}, {}, {}};
  UsageReports u = km.make();
  add(u, {1, 10, 30, 39480}, 0);
  EXPECT_TRUE(km.logged("usage report taken after 127.0.0.1:7700, 127.0.0.1:7702 gave no answer to it: it may be "
                        "counted twice, there too: channel 1 key 10 (30 packets, 39480 bytes)"));
  add(u, {2, 20, 3, 300}, 10);
  u.send_due(1010);
  EXPECT_TRUE(km.logged("usage report taken after 127.0.0.1:7701 gave no answer to it: it may be counted twice, "
                        "there too: channel 2 key 20 (3 packets, 300 bytes)"));
  add(u, {3, 30, 4, 400}, 2000);
  EXPECT_EQ(km.taken.size(), 3u);
  EXPECT_EQ(u.stats().maybe_twice, 2u);
  expect_stats(u, {.sent = 3, .failed_attempts = 1, .lost = 0, .waiting = 0});
}

TEST(UsageReports, ARefusedReportIsGivenUpAndDoesNotBlockTheRest) {
  FakeKeymgr km;
  km.script = {Sent::refused};
  UsageReports u = km.make();
  add(u, {7, 70, 4, 400}, 0);
  add(u, {8, 80, 5, 500}, 1);
  ASSERT_EQ(km.taken.size(), 1u);
  EXPECT_EQ(km.taken[0].channel_id, 8u);
  expect_stats(u, {.sent = 1, .failed_attempts = 0, .lost = 1, .waiting = 0});
  EXPECT_TRUE(km.logged("usage report given up (refused: not_entitled): channel 7 key 70 (4 packets, 400 bytes)"));
}

TEST(UsageReports, OverTheCapTheOldestIsGivenUp) {
  FakeKeymgr km;
  km.script = {Sent::later};
  UsageReports u = km.make();
  for (std::uint32_t i = 1; i <= UsageReports::kMaxWaiting + 1; ++i) add(u, {1, i, i, i}, 0);
  expect_stats(u, {.sent = 0, .failed_attempts = 1, .lost = 1, .waiting = UsageReports::kMaxWaiting});
  EXPECT_TRUE(km.logged("usage report given up (too many usage reports waiting): channel 1 key 1 (1 packets, 1 bytes)"));
  u.send_due(1000);
  ASSERT_EQ(km.taken.size(), UsageReports::kMaxWaiting);
  EXPECT_EQ(km.taken.front().key_id, 2u);
  EXPECT_EQ(km.taken.back().key_id, UsageReports::kMaxWaiting + 1);
}

TEST(UsageReports, AtStopOneLastTryThenWhatIsLeftIsGivenUp) {
  {
    FakeKeymgr km;
    km.script = {Sent::later};
    UsageReports u = km.make();
    add(u, {1, 10, 1, 100}, 0);
    u.flush();  // before the retry time: tried anyway, and taken
    EXPECT_EQ(km.taken.size(), 1u);
    expect_stats(u, {.sent = 1, .failed_attempts = 1, .lost = 0, .waiting = 0});
  }
  FakeKeymgr km;
  km.script = {Sent::later, Sent::later};
  UsageReports u = km.make();
  add(u, {1, 10, 1, 100}, 0);
  add(u, {2, 20, 2, 200}, 0);
  u.flush();
  expect_stats(u, {.sent = 0, .failed_attempts = 2, .lost = 2, .waiting = 0});
  EXPECT_TRUE(km.logged("usage report given up (not taken before the stop: connection refused): channel 1 key 10"));
  EXPECT_TRUE(km.logged("channel 2 key 20 (2 packets, 200 bytes)"));
}

}  // namespace
}  // namespace gateway
