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

TEST(Remaining, CountsDownAndWholeLifetimeForFutureKeys) {
  const KeyTimes k{1, 100000, kLife};
  EXPECT_EQ(remaining_ms(k, 99000), kLife);
  EXPECT_EQ(remaining_ms(k, 104000), 6000u);
  EXPECT_EQ(remaining_ms(k, 120000), 0u);
}

}  // namespace
}  // namespace keymgr
