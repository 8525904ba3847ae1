// ChannelStats' key usage seqlock: a reader thread never sees the key id of
// one publication with the counts of another. scripts/check also runs it
// under ThreadSanitizer.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "counters.h"

namespace gateway {
namespace {

#if defined(__SANITIZE_THREAD__)
constexpr bool kThreadSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr bool kThreadSanitizer = true;
#else
constexpr bool kThreadSanitizer = false;
#endif
#else
constexpr bool kThreadSanitizer = false;
#endif

TEST(ChannelStats, KeyUsageIsReadWhole) {
  ChannelStats stats;
  // Enough reads to meet a publication half done (the test fails without the
  // version check); under ThreadSanitizer, which checks the accesses
  // themselves and makes each read a hundred times slower, a few suffice.
  constexpr std::uint64_t kReads = kThreadSanitizer ? 20000 : 4000000;
  std::atomic<bool> done{false};
  std::atomic<std::uint32_t> published{0};
  std::thread worker([&] {  // publishes until the reader has read enough
    std::uint32_t k = 0;
    while (!done.load(std::memory_order_relaxed)) {
      ++k;
      stats.publish_key_usage({k, k * 10ULL, k * 100ULL});
    }
    published.store(k);
  });
  while (stats.key_usage().key_id == 0) std::this_thread::yield();  // reads from the first publication on
  std::uint64_t torn = 0;
  std::uint32_t last = 0;
  bool backwards = false;
  for (std::uint64_t i = 0; i < kReads; ++i) {
    const KeyUsage u = stats.key_usage();
    if (u.datagrams != u.key_id * 10ULL || u.bytes != u.key_id * 100ULL) ++torn;
    backwards |= u.key_id < last;
    last = u.key_id;
  }
  done.store(true);
  worker.join();
  EXPECT_EQ(torn, 0u) << "of " << kReads << " reads";
  EXPECT_FALSE(backwards);
  const KeyUsage end = stats.key_usage();
  EXPECT_EQ(end.key_id, published.load());
  EXPECT_EQ(end.bytes, published.load() * 100ULL);
}

}  // namespace
}  // namespace gateway
