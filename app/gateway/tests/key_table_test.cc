// KeyTable without the EAL: a control thread publishing key sets while reader
// threads (as workers do) read them lock-free and report quiescent states.
// Readers must never see a set that was wiped or freed (ASan, TSan and the
// scramble checks here would all catch it), and a publish must wait for a
// reader still holding the set it replaces.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "dpdk.h"
#include "key_table.h"
#include "pktparse/scramble.h"

namespace gateway::test {
namespace {

constexpr std::uint16_t kChannels = 6;
constexpr unsigned kReaders = 2;  // reader r owns channels r, r + kReaders, ... (one owner per channel)
constexpr std::uint32_t kRounds = 150;
constexpr std::size_t kHeaderRoom = 64;  // more than any keycast header here
constexpr std::size_t kPayloadLen = 64;

// Odd key ids are xor, even ones AES-128-CTR: both kinds of prepared state.
pktparse::Suite suite_of(std::uint32_t key_id) {
  return key_id % 2 ? pktparse::Suite::xor_pattern : pktparse::Suite::aes128_ctr;
}

std::array<std::uint8_t, 16> material(std::uint16_t channel, std::uint32_t key_id) {
  std::array<std::uint8_t, 16> m;
  for (std::size_t j = 0; j < m.size(); ++j) m[j] = static_cast<std::uint8_t>(channel * 31 + key_id * 7 + j);
  return m;
}

void prepare(pktparse::PreparedKey& k, std::uint16_t channel, std::uint32_t key_id) {
  const auto m = material(channel, key_id);
  ASSERT_EQ(k.prepare(suite_of(key_id), key_id, m), pktparse::Status::ok);
}

// {previous, current, next} = {key_id - 1 (if any), key_id, key_id + 1}.
std::unique_ptr<KeySet> key_set(std::uint16_t channel, std::uint32_t key_id) {
  auto set = std::make_unique<KeySet>();
  if (key_id > 1) prepare(set->previous, channel, key_id - 1);
  prepare(set->current, channel, key_id);
  prepare(set->next, channel, key_id + 1);
  return set;
}

// The header and payload bytes of a fixed datagram scrambled under key.
std::vector<std::uint8_t> scrambled(pktparse::PreparedKey& key, std::uint16_t channel) {
  std::vector<std::uint8_t> out(kHeaderRoom + kPayloadLen);
  for (std::size_t i = 0; i < kPayloadLen; ++i) out[kHeaderRoom + i] = static_cast<std::uint8_t>(i);
  pktparse::KcHeader h;
  h.channel_id = channel;
  h.seq = 42;
  if (pktparse::scramble(key, pktparse::ChannelRules{}, h, out.data(), out.data() + kHeaderRoom, kPayloadLen) !=
      pktparse::Status::ok)
    return {};
  return out;
}

struct ReaderReport {
  std::uint64_t reads = 0;
  std::uint64_t keys_seen = 0;  // distinct current keys over the reader's channels
  std::uint64_t bad = 0;
  std::string first_problem;
};

// A worker's loop: read each owned channel's set, use its current key, check
// it, then report a quiescent state holding no set.
void read_until(const KeyTable& table, unsigned self, std::atomic<unsigned>& online, const std::atomic<bool>& stop,
                ReaderReport& report) {
  rte_rcu_qsbr* qsbr = table.qsbr();
  pktparse::prepare_packet_thread();
  EXPECT_EQ(rte_rcu_qsbr_thread_register(qsbr, self), 0);
  rte_rcu_qsbr_thread_online(qsbr, self);
  ++online;
  std::map<std::uint16_t, std::pair<std::uint32_t, std::vector<std::uint8_t>>> expected;  // channel: key, bytes
  auto problem = [&](std::uint16_t ch, const std::string& what) {
    ++report.bad;
    if (report.first_problem.empty()) report.first_problem = "channel " + std::to_string(ch) + ": " + what;
  };
  while (!stop.load(std::memory_order_relaxed)) {
    for (std::uint16_t ch = static_cast<std::uint16_t>(self); ch < kChannels; ch += kReaders) {
      KeySet* set = table.read(ch);
      if (!set) continue;
      ++report.reads;
      if (!set->current.ready() || !set->next.ready()) {
        problem(ch, "a key of the set is not ready (wiped?)");
        continue;
      }
      const std::uint32_t id = set->current.key_id();
      if (set->next.key_id() != id + 1 || (id > 1 && set->previous.key_id() != id - 1)) {
        problem(ch, "key ids " + std::to_string(set->previous.key_id()) + "/" + std::to_string(id) + "/" +
                        std::to_string(set->next.key_id()) + " are not one set");
        continue;
      }
      auto& [known_id, bytes] = expected[ch];
      if (id < known_id) problem(ch, "current key went back from " + std::to_string(known_id));
      if (id != known_id) {
        pktparse::PreparedKey reference;
        prepare(reference, ch, id);
        known_id = id;
        bytes = scrambled(reference, ch);
        ++report.keys_seen;
      }
      if (scrambled(set->current, ch) != bytes)
        problem(ch, "key " + std::to_string(id) + " does not scramble as its material (wiped?)");
    }
    rte_rcu_qsbr_quiescent(qsbr, self);
    std::this_thread::yield();
  }
  rte_rcu_qsbr_thread_offline(qsbr, self);
  rte_rcu_qsbr_thread_unregister(qsbr, self);
}

TEST(KeyTable, ReadersNeverSeeAReplacedSetWipedOrFreed) {
  KeyTable table;
  for (std::uint16_t ch = 0; ch < kChannels; ++ch) table.publish(ch, key_set(ch, 1));

  std::atomic<unsigned> online{0};
  std::atomic<bool> stop{false};
  std::array<ReaderReport, kReaders> reports;
  std::vector<std::thread> readers;
  for (unsigned r = 0; r < kReaders; ++r)
    readers.emplace_back(read_until, std::cref(table), r, std::ref(online), std::cref(stop), std::ref(reports[r]));
  while (online.load() != kReaders) std::this_thread::yield();  // as workers are before traffic

  for (std::uint32_t k = 2; k <= kRounds; ++k)
    for (std::uint16_t ch = 0; ch < kChannels; ++ch) table.publish(ch, key_set(ch, k));
  stop = true;
  for (auto& t : readers) t.join();

  for (unsigned r = 0; r < kReaders; ++r) {
    SCOPED_TRACE("reader " + std::to_string(r));
    EXPECT_EQ(reports[r].bad, 0u) << reports[r].first_problem;
    EXPECT_GT(reports[r].reads, 0u);
    EXPECT_GT(reports[r].keys_seen, kChannels / kReaders) << "the reader never saw a key change";
  }
}

TEST(KeyTable, PublishWaitsForAReaderStillHoldingTheOldSet) {
  KeyTable table;
  table.publish(0, key_set(0, 1));

  std::atomic<int> step{0};  // 1: reader holds the set; 2: reader may report
  std::atomic<bool> set_intact{false};
  std::thread reader([&] {
    rte_rcu_qsbr* qsbr = table.qsbr();
    EXPECT_EQ(rte_rcu_qsbr_thread_register(qsbr, 0), 0);
    rte_rcu_qsbr_thread_online(qsbr, 0);
    KeySet* held = table.read(0);
    step = 1;
    while (step.load() != 2) std::this_thread::yield();
    set_intact = held->current.ready() && held->current.key_id() == 1;
    rte_rcu_qsbr_quiescent(qsbr, 0);
    rte_rcu_qsbr_thread_offline(qsbr, 0);
  });
  while (step.load() != 1) std::this_thread::yield();

  std::atomic<bool> published{false};
  std::thread writer([&] {
    table.publish(0, key_set(0, 2));
    published = true;
  });
  while (table.read(0)->current.key_id() != 2) std::this_thread::yield();  // the new set is readable at once
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(published.load()) << "publish returned while a reader still held the set it replaced";
  step = 2;
  writer.join();
  reader.join();
  // Only now: rte_rcu_qsbr_thread_unregister is not instrumented, so
  // ThreadSanitizer would not see the writer skip an unregistered reader.
  rte_rcu_qsbr_thread_unregister(table.qsbr(), 0);
  EXPECT_TRUE(published.load());
  EXPECT_TRUE(set_intact.load()) << "the replaced set was wiped while held";
}

TEST(KeyTable, PublishDoesNotWaitForOfflineReaders) {
  KeyTable table;
  rte_rcu_qsbr* qsbr = table.qsbr();
  ASSERT_EQ(rte_rcu_qsbr_thread_register(qsbr, 3), 0);  // registered, never online: an idle worker
  table.publish(0, key_set(0, 1));
  table.publish(0, key_set(0, 2));
  EXPECT_EQ(table.read(0)->current.key_id(), 2u);
  rte_rcu_qsbr_thread_unregister(qsbr, 3);
}

}  // namespace
}  // namespace gateway::test
