// PeerLog: peer-caused log lines limited per second, the held-back count
// reported on the next line let through.
#include <gtest/gtest.h>

#include "service/peer_log.h"

namespace keymgr {
namespace {

TEST(PeerLog, AtMostSoManyLinesASecondThenSaysHowManyWereHeldBack) {
  PeerLog log;
  for (std::uint32_t i = 0; i < PeerLog::kLinesPerSecond; ++i)
    EXPECT_EQ(log.admit("refused", 5000 + i), "refused");
  EXPECT_FALSE(log.admit("refused", 5500));
  EXPECT_FALSE(log.admit("refused", 5999));
  EXPECT_EQ(log.admit("refused", 6000), "refused (2 more such lines were not logged)");
  EXPECT_EQ(log.admit("refused", 6001), "refused");
}

}  // namespace
}  // namespace keymgr
