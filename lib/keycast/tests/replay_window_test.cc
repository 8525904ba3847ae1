// ReplayWindow: the GCM anti-replay bitmap of one key.
#include <gtest/gtest.h>

#include "keycast/replay_window.h"

namespace keycast {
namespace {

using Verdict = ReplayWindow::Verdict;

TEST(ReplayWindow, RefusesWhatWasAcceptedAndWhatIsTooOld) {
  ReplayWindow w;
  EXPECT_EQ(w.check(0), Verdict::fresh);
  w.accept(0);
  EXPECT_EQ(w.check(0), Verdict::replayed);
  w.accept(5);
  EXPECT_EQ(w.check(5), Verdict::replayed);
  EXPECT_EQ(w.check(3), Verdict::fresh);  // reordered, not seen yet
  w.accept(3);
  EXPECT_EQ(w.check(3), Verdict::replayed);
  w.accept(5 + ReplayWindow::kSize);
  EXPECT_EQ(w.check(5), Verdict::too_old);
  EXPECT_EQ(w.check(6), Verdict::fresh);  // the oldest seq still inside
  EXPECT_EQ(w.check(5 + ReplayWindow::kSize), Verdict::replayed);
}

// Sliding by every kind of step keeps each seq of the window right: new
// ones fresh (no stale bit left in the ring), accepted ones replayed, the
// others fresh, those behind the window too old.
TEST(ReplayWindow, SlidingKeepsTheWholeWindow) {
  for (std::uint64_t step : {1u, 7u, 63u, 64u, 65u, 500u, 1023u, 1024u, 1087u, 1088u, 1089u, 5000u}) {
    ReplayWindow w;
    std::uint64_t prev_top = 0;
    std::uint64_t top = 100;
    for (int round = 0; round < 40; ++round) {
      for (std::uint64_t s = prev_top + 1; s <= top; ++s) ASSERT_EQ(w.check(s), Verdict::fresh) << step << " " << s;
      for (std::uint64_t s = top - 100 + top % 2; s <= top; s += 2) w.accept(s);  // the even seqs of the last 100
      for (std::uint64_t s = top - 100; s <= top; ++s) {
        ASSERT_EQ(w.check(s), s % 2 == 0 ? Verdict::replayed : Verdict::fresh) << step << " " << s;
      }
      const std::uint64_t high = top - top % 2;  // the highest accepted
      EXPECT_EQ(w.check(high - ReplayWindow::kSize), high >= ReplayWindow::kSize ? Verdict::too_old : Verdict::fresh);
      EXPECT_NE(w.check(high - ReplayWindow::kSize + 1), Verdict::too_old);
      prev_top = top;
      top += step;
    }
  }
}

TEST(ReplayWindow, HugeSeqs) {
  ReplayWindow w;
  const std::uint64_t big = ~std::uint64_t{0};
  w.accept(big - 1);
  w.accept(big);
  EXPECT_EQ(w.check(big), Verdict::replayed);
  EXPECT_EQ(w.check(big - 2), Verdict::fresh);
  EXPECT_EQ(w.check(0), Verdict::too_old);
}

}  // namespace
}  // namespace keycast
