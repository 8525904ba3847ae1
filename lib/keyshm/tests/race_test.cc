// Readers racing a writer that never stops: every snapshot a reader accepts
// is internally consistent, and readers never hold the writer up.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "test_keys.h"

namespace keyshm::test {
namespace {

const std::uint32_t kRaceChannels[] = {1, 2};
constexpr int kReaders = 3;
constexpr auto kRunFor = std::chrono::seconds(2);

struct ReaderCounts {
  std::uint64_t accepted = 0, inconsistent = 0, busy = 0, failed = 0, odd = 0, torn = 0, went_back = 0;
  std::string first_problem;
};

void read_until(const std::string& name, const std::atomic<bool>& stop, ReaderCounts& c) {
  Failure why;
  const auto r = ShmReader::open(name, &why);
  if (!r) {
    c.first_problem = why.message;
    ++c.failed;
    return;
  }
  std::uint32_t last_current[2] = {0, 0};
  Snapshot s;
  for (std::uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
    const std::uint32_t ch = kRaceChannels[i % 2];
    ReadTrace trace;
    const ReadStatus st = r->read(ch, s, &trace);
    c.odd += trace.odd;
    c.torn += trace.torn;
    if (st == ReadStatus::busy) {
      ++c.busy;
      continue;
    }
    if (st != ReadStatus::ok) {
      ++c.failed;
      if (c.first_problem.empty()) c.first_problem = std::string(to_string(st));
      continue;
    }
    if (s.count == 0) continue;  // before the first publish
    ++c.accepted;
    if (const std::string why_not = snapshot_inconsistency(ch, s); !why_not.empty()) {
      ++c.inconsistent;
      if (c.first_problem.empty()) c.first_problem = why_not;
      continue;
    }
    const std::uint32_t cur = s.find(KeyState::current)->key_id;
    if (cur < last_current[i % 2]) ++c.went_back;
    last_current[i % 2] = cur;
  }
}

TEST(Race, ReadersNeverAcceptATornKey) {
  const std::string name = unique_name("race");
  Failure why;
  const auto w = ShmWriter::create(name, kRaceChannels, &why);
  ASSERT_TRUE(w) << why.message;

  std::atomic<bool> stop{false};
  ReaderCounts counts[kReaders];
  std::vector<std::thread> readers;
  for (int i = 0; i < kReaders; ++i) readers.emplace_back(read_until, name, std::cref(stop), std::ref(counts[i]));

  // Every step rotates both channels (one fresh key each); every fourth
  // step publishes the current key alone, so entries are also wiped.
  std::uint64_t publishes = 0;
  const auto end = std::chrono::steady_clock::now() + kRunFor;
  for (std::uint32_t k = 1; std::chrono::steady_clock::now() < end; ++k) {
    for (const std::uint32_t ch : kRaceChannels) {
      const auto keys = rotation(ch, k, k % 4 == 0);
      ASSERT_EQ(w->publish(ch, keys), PublishResult::written);
      ++publishes;
    }
  }
  stop = true;
  for (auto& t : readers) t.join();

  ReaderCounts total;
  for (const auto& c : counts) {
    total.accepted += c.accepted;
    total.inconsistent += c.inconsistent;
    total.busy += c.busy;
    total.failed += c.failed;
    total.odd += c.odd;
    total.torn += c.torn;
    total.went_back += c.went_back;
    if (total.first_problem.empty()) total.first_problem = c.first_problem;
  }
  std::printf("race: %llu publishes; %llu snapshots accepted, %llu inconsistent, %llu busy; retries: %llu odd, "
              "%llu torn\n",
              static_cast<unsigned long long>(publishes), static_cast<unsigned long long>(total.accepted),
              static_cast<unsigned long long>(total.inconsistent), static_cast<unsigned long long>(total.busy),
              static_cast<unsigned long long>(total.odd), static_cast<unsigned long long>(total.torn));
  RecordProperty("publishes", std::to_string(publishes));
  RecordProperty("accepted", std::to_string(total.accepted));
  RecordProperty("torn_retries", std::to_string(total.torn));
  RecordProperty("odd_retries", std::to_string(total.odd));
  EXPECT_GT(publishes, 1000u);
  EXPECT_GT(total.accepted, 0u);
  EXPECT_EQ(total.inconsistent, 0u) << total.first_problem;
  EXPECT_EQ(total.failed, 0u) << total.first_problem;
  EXPECT_EQ(total.went_back, 0u) << "a reader saw a channel's current key go back";
}

}  // namespace
}  // namespace keyshm::test
