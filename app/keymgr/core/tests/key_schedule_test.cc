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
  EXPECT_EQ(v.in_use(), 1u);
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
  EXPECT_EQ(v.in_use(), 0u);  // what degraded senders use
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

// Key 10 runs 100 s to 110 s (10 s keys). The first id is past the highest
// the old master may have made by the promotion + kPromotionMargin (2), of
// the other parity than the key in use.
TEST(Promotion, SkipsTheIdsTheOldMasterMayHaveMadeUntilThePromotion) {
  static_assert(kPromotionMargin == 2);
  const KeyTimes newest{10, 100000, 10000};
  // Before newest ended only key 11 (made ahead of the switch) may exist:
  // 11 + 2 + 1 = 14, odd because 10 is in use.
  EXPECT_EQ(first_id_after_promotion(newest, 10, 105000), 15u);
  EXPECT_EQ(first_id_after_promotion(newest, 10, 110000), 15u);
  EXPECT_EQ(first_id_after_promotion(newest, 9, 105000), 14u);  // 10 was next, 9 in use
  // 11 current from 110 s; 12 made ahead of 120 s, 13 of 130 s.
  EXPECT_EQ(first_id_after_promotion(newest, 10, 110001), 15u);
  EXPECT_EQ(first_id_after_promotion(newest, 10, 119999), 15u);
  EXPECT_EQ(first_id_after_promotion(newest, 10, 120000), 17u);
  EXPECT_EQ(first_id_after_promotion(newest, 10, 125000), 17u);
  // An hour later, and ids near the end of the range.
  EXPECT_EQ(first_id_after_promotion(newest, 10, 110000 + 3600000), 11u + 361 + 3);
  EXPECT_EQ(first_id_after_promotion({0xFFFFFFF0u, 100000, 10000}, 0xFFFFFFF0u, 110000 + 3600000), 0xFFFFFFFFu);
  // A key without a lifetime (rotated by usage): the margin only.
  EXPECT_EQ(first_id_after_promotion({10, 100000, 0}, 10, 200000), 15u);
}

// Key 1 current, 2 next from 110 s; key 5 made current at 105 s (a
// promotion, a gateway's new current key) supersedes both: 2 never becomes
// current, 1 stays previous for the grace, 2 is served until the grace after
// 5 started, then expires.
TEST(Classify, AKeyMadeCurrentAtOnceSupersedesAnOlderNextOne) {
  std::vector<KeyTimes> keys = chain(100000, 2);
  keys.push_back({5, 105000, kLife});
  ChannelView v = classify(keys, 105500, kGrace);
  EXPECT_EQ(v.current, 2u);
  EXPECT_FALSE(v.next);
  EXPECT_EQ(v.previous, 0u);
  EXPECT_TRUE(served_by_id(keys, 1, v, 105500, kGrace));
  v = classify(keys, 111000, kGrace);  // past key 2's start
  EXPECT_EQ(v.current, 2u);
  EXPECT_FALSE(v.previous);
  EXPECT_FALSE(served_by_id(keys, 1, v, 111000, kGrace));
  EXPECT_EQ(keys_to_expire(keys, v, 111000, kGrace), (std::vector<std::uint32_t>{1, 2}));
  v = classify(keys, 106000, kGrace);  // grace after 5's start: 2, not started, superseded
  EXPECT_TRUE(served_by_id(keys, 1, v, 106000, kGrace));
  v = classify(keys, 107000, kGrace);
  EXPECT_FALSE(served_by_id(keys, 1, v, 107000, kGrace));
}

}  // namespace
}  // namespace keymgr
