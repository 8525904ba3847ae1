// WantedKeys: keys asked for by id, their tries and backoff, and what a
// fifth need displaces.
#include "wanted_keys.h"

#include <gtest/gtest.h>

#include <vector>

namespace gateway {
namespace {

using Outcome = WantedKeys::Outcome;
using Ids = std::vector<std::uint32_t>;

TEST(WantedKeys, ATryThatFailsIsRepeatedWithADoublingBackoffThenGivenUp) {
  WantedKeys w;
  std::uint32_t displaced = 1;
  ASSERT_TRUE(w.add(7, 1000, &displaced));
  EXPECT_EQ(displaced, 0u);
  EXPECT_FALSE(w.add(7, 1000, &displaced)) << "wanted already";
  EXPECT_EQ(w.due(1000), Ids{7});
  std::uint64_t t = 1000;
  for (const std::uint64_t backoff : {20u, 40u, 80u}) {
    EXPECT_FALSE(w.after(7, Outcome::failed, t));
    EXPECT_TRUE(w.due(t + backoff - 1).empty()) << backoff;
    EXPECT_EQ(w.due(t + backoff), Ids{7}) << backoff;
    t += backoff;
  }
  EXPECT_EQ(w.tries(7), 3u);
  EXPECT_TRUE(w.after(7, Outcome::failed, t)) << "the fourth failure gives it up";
  EXPECT_FALSE(w.contains(7));
  EXPECT_TRUE(w.empty());
}

TEST(WantedKeys, AttemptsThatAskNothingAreNotTries) {
  WantedKeys w;
  std::uint32_t displaced = 0;
  ASSERT_TRUE(w.add(7, 0, &displaced));
  EXPECT_FALSE(w.after(7, Outcome::busy, 100));
  EXPECT_EQ(w.due(100), Ids{7}) << "busy: again at the next tick";
  EXPECT_FALSE(w.after(7, Outcome::held_off, 100));
  EXPECT_TRUE(w.due(119).empty());
  EXPECT_EQ(w.due(120), Ids{7});
  EXPECT_EQ(w.tries(7), 0u);
  EXPECT_FALSE(w.after(7, Outcome::got, 120));
  EXPECT_TRUE(w.empty());
  EXPECT_FALSE(w.after(7, Outcome::failed, 120)) << "not wanted: nothing to record";
}

// Two keys met one after the other are both asked for: the second does not
// replace the first (it did when a channel wanted one key at a time).
TEST(WantedKeys, SeveralAtOnceAndAFifthDisplacesTheOneTriedMost) {
  WantedKeys w;
  std::uint32_t displaced = 0;
  for (const std::uint32_t id : {11u, 12u, 13u, 14u}) ASSERT_TRUE(w.add(id, 0, &displaced));
  EXPECT_EQ(displaced, 0u);
  EXPECT_EQ(w.due(0), (Ids{11, 12, 13, 14}));
  EXPECT_FALSE(w.after(12, Outcome::failed, 0));
  EXPECT_FALSE(w.after(12, Outcome::failed, 20));
  EXPECT_FALSE(w.after(13, Outcome::failed, 0));
  ASSERT_TRUE(w.add(15, 30, &displaced));
  EXPECT_EQ(displaced, 12u);
  EXPECT_FALSE(w.contains(12));
  for (const std::uint32_t id : {11u, 13u, 14u, 15u}) EXPECT_TRUE(w.contains(id)) << id;
  w.remove(11);
  EXPECT_FALSE(w.contains(11));
  EXPECT_FALSE(w.add(0, 30, &displaced)) << "key id 0 is no key";
}

}  // namespace
}  // namespace gateway
