// lib/secmem: blocks aligned and sized as asked, in mappings excluded from
// core dumps, wiped when freed or left behind by a growing vector; objects
// deriving from InSecretMemory placed in the pool; a thread's stack below a
// frame wiped.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <memory>
#include <random>

#include "proc_memory.h"
#include "secmem/allocator.h"
#include "secmem/pool.h"
#include "secmem/wipe.h"

namespace secmem {
namespace {

#define SKIP_UNLESS_SCANNABLE() \
  if (!test::kScanOwnMemory) GTEST_SKIP() << "no memory scan under AddressSanitizer"

using test::find_in_memory;
using test::mapping_of;
using test::read_mappings;

std::uintptr_t address(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

bool excluded_from_dumps(const void* p) {
  const auto maps = read_mappings(getpid());
  const auto* m = mapping_of(maps, address(p));
  return m && m->excluded_from_dumps();
}

// A random marker; the search's own copy of it is left out of the hits.
struct Marker {
  std::vector<std::vector<std::uint8_t>> patterns{std::vector<std::uint8_t>(32)};
  const std::vector<std::uint8_t>& bytes = patterns[0];
  Marker() {
    std::random_device rd;
    for (auto& b : patterns[0]) b = static_cast<std::uint8_t>(rd());
  }
  // Where the marker is in this process, apart from the marker itself.
  std::vector<std::uintptr_t> elsewhere() const {
    std::vector<std::uintptr_t> out;
    for (const auto& h : find_in_memory(getpid(), read_mappings(getpid()), patterns))
      if (h.address != address(bytes.data())) out.push_back(h.address);
    return out;
  }
};

TEST(SecretPool, BlocksAreAlignedAndLargeEnough) {
  for (std::size_t n : {0, 1, 15, 16, 17, 48, 63, 64, 65, 300, 1000, 4096, 20000, 32768, 32769, 200000}) {
    for (std::size_t align : {1, 8, 16, 32, 64}) {
      void* p = allocate(n, align);
      ASSERT_NE(p, nullptr) << n << " " << align;
      EXPECT_EQ(address(p) % align, 0u) << n << " " << align;
      EXPECT_GE(block_size(p), std::max<std::size_t>(n, 1));
      std::memset(p, 0xa5, n);
      deallocate(p);
    }
  }
  EXPECT_EQ(allocate(16, 128), nullptr) << "more than 64-byte alignment is refused";
  deallocate(nullptr);
}

TEST(SecretPool, SmallAndLargeBlocksAreExcludedFromCoreDumps) {
  void* small = allocate(100);
  void* large = allocate(100000);
  EXPECT_TRUE(excluded_from_dumps(small));
  EXPECT_TRUE(excluded_from_dumps(large));
  deallocate(small);
  deallocate(large);
}

TEST(SecretPool, FreedBlocksAreWiped) {
  SKIP_UNLESS_SCANNABLE();
  const Marker m;
  for (std::size_t n : {40, 5000, 100000}) {
    auto* p = static_cast<std::uint8_t*>(allocate(n));
    std::memcpy(p + n - m.bytes.size(), m.bytes.data(), m.bytes.size());
    EXPECT_EQ(m.elsewhere().size(), 1u) << n;
    deallocate(p);
    EXPECT_TRUE(m.elsewhere().empty()) << n;
  }
}

TEST(SecretPool, ReallocateKeepsTheContentsAndWipesTheOldBlock) {
  SKIP_UNLESS_SCANNABLE();
  const Marker m;
  auto* p = static_cast<std::uint8_t*>(allocate(m.bytes.size()));
  std::memcpy(p, m.bytes.data(), m.bytes.size());
  auto* q = static_cast<std::uint8_t*>(reallocate(p, 50000));
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(std::memcmp(q, m.bytes.data(), m.bytes.size()), 0);
  EXPECT_EQ(m.elsewhere(), std::vector<std::uintptr_t>{address(q)});
  deallocate(q);
}

TEST(SecretPool, AGrowingVectorLeavesNoCopyBehind) {
  SKIP_UNLESS_SCANNABLE();
  const Marker m;
  Bytes v(m.bytes.begin(), m.bytes.end());
  for (int i = 0; i < 100000; ++i) v.push_back(static_cast<std::uint8_t>(i));
  EXPECT_TRUE(excluded_from_dumps(v.data()));
  EXPECT_EQ(m.elsewhere(), std::vector<std::uintptr_t>{address(v.data())});
  v.clear();
  v.shrink_to_fit();
  EXPECT_TRUE(m.elsewhere().empty());
}

struct alignas(64) Secret : InSecretMemory {
  std::uint8_t bytes[200];
};

TEST(SecretPool, InSecretMemoryObjectsLiveInThePool) {
  auto s = std::make_unique<Secret>();
  EXPECT_EQ(address(s.get()) % 64, 0u);
  EXPECT_TRUE(excluded_from_dumps(s.get()));
  auto* n = new (std::nothrow) Secret;
  ASSERT_NE(n, nullptr);
  EXPECT_TRUE(excluded_from_dumps(n));
  delete n;
}

TEST(SecureWipe, ZeroesTheBytes) {
  std::uint8_t b[64];
  std::memset(b, 0xff, sizeof b);
  secure_wipe(b, sizeof b);
  for (std::uint8_t x : b) EXPECT_EQ(x, 0);
  secure_wipe(nullptr, 10);
}

// A callee's frame, left as it returned: the marker at its deepest end, below
// what the memory scan's own calls reach.
__attribute__((noinline)) void leave_on_stack(const std::vector<std::uint8_t>& marker) {
  volatile std::uint8_t frame[48 * 1024];
  for (std::size_t i = 0; i < marker.size(); ++i) frame[i] = marker[i];
  for (std::size_t i = marker.size(); i < sizeof frame; i += 4096) frame[i] = 0;
}

TEST(WipeStackBelow, RemovesWhatReturnedCallsLeftOnTheStack) {
  SKIP_UNLESS_SCANNABLE();
  Marker m;
  leave_on_stack(m.bytes);
  ASSERT_FALSE(m.elsewhere().empty()) << "the returned frame should still hold the marker";
  leave_on_stack(m.bytes);
  wipe_stack_below();
  EXPECT_TRUE(m.elsewhere().empty());
}

}  // namespace
}  // namespace secmem
