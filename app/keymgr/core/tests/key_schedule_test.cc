// Key lifecycle arithmetic: which key is current/next/previous, when the next
// key is due, what expires.
#include <gtest/gtest.h>

#include "core/key_schedule.h"

namespace keymgr {
namespace {

constexpr std::uint32_t kLife = 10000;
constexpr std::uint32_t kGrace = 2000;

std::vector<KeyTimes> chain(std::uint64_t start, int n) {
  std::vector<KeyTimes> v;
  for (int i = 0; i < n; ++i)
    v.push_back({static_cast<std::uint32_t>(i + 1), start + static_cast<std::uint64_t>(i) * kLife, kLife});
  return v;
}

TEST(Classify, CurrentNextPrevious) {
  const auto keys = chain(100000, 3);  // 1: [100000,110000) 2: [110000,120000) 3: [120000,130000)
  ChannelView v = classify(keys, 110500, kGrace);
  EXPECT_EQ(v.current, 1u);
  EXPECT_EQ(v.next, 2u);
  EXPECT_EQ(v.previous, 0u);
  v = classify(keys, 112500, kGrace);  // grace over
  EXPECT_EQ(v.current, 1u);
  EXPECT_FALSE(v.previous);
}

TEST(Classify, SwitchHappensExactlyAtTheEnd) {
  const auto keys = chain(100000, 2);
  EXPECT_EQ(classify(keys, 109999, kGrace).current, 0u);
  EXPECT_EQ(classify(keys, 110000, kGrace).current, 1u);
}

// Nothing current: the last key that started is what degraded senders still
// use, previous for as long as the gap lasts, never expired meanwhile.
TEST(Classify, GapLeavesNoCurrentAndKeepsTheLastKey) {
  const auto keys = chain(100000, 1);
  const ChannelView v = classify(keys, 111000, kGrace);
  EXPECT_FALSE(v.current);
  EXPECT_EQ(v.previous, 0u);
  const ChannelView later = classify(keys, 500000, kGrace);
  EXPECT_EQ(later.previous, 0u);
  EXPECT_TRUE(keys_to_expire(keys, later, 500000, kGrace).empty());
}

TEST(KeyDue, CurrentWhenNoneNextAtThresholdX) {
  std::vector<KeyTimes> none;
  EXPECT_EQ(key_due(none, classify(none, 5, kGrace), 5, 0.5), Due::current);
  const auto keys = chain(100000, 1);
  EXPECT_EQ(key_due(keys, classify(keys, 104999, kGrace), 104999, 0.5), Due::nothing);
  EXPECT_EQ(key_due(keys, classify(keys, 105000, kGrace), 105000, 0.5), Due::next);
  EXPECT_EQ(next_due_ms(keys, classify(keys, 101000, kGrace), 101000, 0.5), 105000u);
  const auto two = chain(100000, 2);
  EXPECT_EQ(key_due(two, classify(two, 106000, kGrace), 106000, 0.5), Due::nothing);
}

TEST(Expire, SupersededKeysAfterGraceOnly) {
  const auto keys = chain(100000, 3);
  EXPECT_TRUE(keys_to_expire(keys, classify(keys, 111000, kGrace), 111000, kGrace).empty());
  const auto at = 121000;  // key 3 current, 2 previous in grace, 1 superseded
  const auto gone = keys_to_expire(keys, classify(keys, at, kGrace), at, kGrace);
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0], 1u);
}

// Keys shorter than the grace: one that stopped being current less than
// grace_ms ago is still served by id (an input lagging by two keys), and
// expired once that is over.
TEST(Expire, KeysShorterThanTheGraceStayForTheGraceAfterTheyStopped) {
  std::vector<KeyTimes> keys;
  for (std::uint32_t id = 1; id <= 20; ++id) keys.push_back({id, 100000 + (id - 1) * 200u, 200});
  const std::uint64_t at = 100000 + 10 * 200 + 50;  // key 11 current, 10 previous
  const ChannelView v = classify(keys, at, kGrace);
  ASSERT_EQ(v.current, 10u);
  ASSERT_EQ(v.previous, 9u);
  EXPECT_TRUE(served_by_id(keys, 8, v, at, kGrace));  // key 9 stopped 250 ms ago
  EXPECT_TRUE(served_by_id(keys, 0, v, at, kGrace));  // key 1 stopped at 100200: 1850 ms ago
  EXPECT_TRUE(keys_to_expire(keys, v, at, kGrace).empty());
  const std::uint64_t later = at + 200;  // key 1 stopped 2050 ms ago, key 2 1850 ms ago
  const ChannelView w = classify(keys, later, kGrace);
  EXPECT_FALSE(served_by_id(keys, 0, w, later, kGrace));
  EXPECT_TRUE(served_by_id(keys, 1, w, later, kGrace));
  EXPECT_EQ(keys_to_expire(keys, w, later, kGrace), std::vector<std::uint32_t>{1});
}

// A key replaced before its end (rotation by usage) stopped when the next
// one started, not at its end.
TEST(Expire, ReplacedKeyCountsFromItsReplacement) {
  const std::vector<KeyTimes> keys{{1, 100000, kLife}, {2, 103000, kLife}, {3, 113000, kLife}};
  const std::uint64_t at = 113500;  // key 3 current, 2 previous, 1 stopped at 103000
  const ChannelView v = classify(keys, at, kGrace);
  EXPECT_FALSE(served_by_id(keys, 0, v, at, kGrace));
  EXPECT_EQ(keys_to_expire(keys, v, at, kGrace), std::vector<std::uint32_t>{1});
}

TEST(Remaining, CountsDownAndWholeLifetimeForFutureKeys) {
  const KeyTimes k{1, 100000, kLife};
  EXPECT_EQ(remaining_ms(k, 99000), kLife);
  EXPECT_EQ(remaining_ms(k, 104000), 6000u);
  EXPECT_EQ(remaining_ms(k, 120000), 0u);
}

}  // namespace
}  // namespace keymgr
