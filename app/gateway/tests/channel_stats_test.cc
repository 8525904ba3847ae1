// ChannelStats' key usage seqlock: a reader thread never sees the key id of
// one publication with the counts of another. scripts/check also runs it
// under ThreadSanitizer.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "counters.h"

namespace gateway {
namespace {

TEST(ChannelStats, KeyUsageIsReadWhole) {
  ChannelStats stats;
  constexpr std::uint32_t kPublications = 200000;
  std::atomic<bool> done{false};
  std::thread worker([&] {
    for (std::uint32_t k = 1; k <= kPublications; ++k) stats.publish_key_usage({k, k * 10ULL, k * 100ULL});
    done.store(true);
  });
  std::uint64_t reads = 0, torn = 0;
  std::uint32_t last = 0;
  while (!done.load()) {
    const KeyUsage u = stats.key_usage();
    ++reads;
    if (u.datagrams != u.key_id * 10ULL || u.bytes != u.key_id * 100ULL) ++torn;
    EXPECT_GE(u.key_id, last);
    last = u.key_id;
  }
  worker.join();
  EXPECT_EQ(torn, 0u) << "of " << reads << " reads";
  const KeyUsage end = stats.key_usage();
  EXPECT_EQ(end.key_id, kPublications);
  EXPECT_EQ(end.bytes, kPublications * 100ULL);
}

}  // namespace
}  // namespace gateway
