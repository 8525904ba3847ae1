// OpenSSL's heap in secret memory (linked as keycast's binaries link it):
// an AES key schedule lies only in mappings excluded from core dumps, and is
// gone from the process once its context is freed.
#include <gtest/gtest.h>

#include <elf.h>
#include <link.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <random>

#include "proc_memory.h"
#include "secmem/openssl_heap.h"

namespace secmem {
namespace {

using test::find_in_memory;
using test::mapping_of;
using test::read_mappings;

TEST(OpensslHeap, IsHeldBeforeMain) { EXPECT_TRUE(openssl_heap_held()); }

// Linked -z now, as every keycast binary (meson.build): no lazy binding.
TEST(OpensslHeap, BinaryIsBoundAtStart) {
  bool now = false;
  for (const ElfW(Dyn)* d = _DYNAMIC; d->d_tag != DT_NULL; ++d) {
    if (d->d_tag == DT_FLAGS && (d->d_un.d_val & DF_BIND_NOW)) now = true;
    if (d->d_tag == DT_FLAGS_1 && (d->d_un.d_val & DF_1_NOW)) now = true;
  }
  EXPECT_TRUE(now);
}

TEST(OpensslHeap, KeySchedulesAreOutOfDumpsAndWipedWhenFreed) {
  if (!test::kScanOwnMemory) GTEST_SKIP() << "no memory scan under AddressSanitizer";
  std::vector<std::vector<std::uint8_t>> key{std::vector<std::uint8_t>(16)};
  std::random_device rd;
  for (auto& b : key[0]) b = static_cast<std::uint8_t>(rd());
  const auto own = reinterpret_cast<std::uintptr_t>(key[0].data());

  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  ASSERT_NE(ctx, nullptr);
  ASSERT_EQ(EVP_EncryptInit_ex(ctx, EVP_aes_128_ctr(), nullptr, key[0].data(), nullptr), 1);
  auto maps = read_mappings(getpid());
  const auto* ctx_map = mapping_of(maps, reinterpret_cast<std::uintptr_t>(ctx));
  ASSERT_NE(ctx_map, nullptr);
  EXPECT_TRUE(ctx_map->excluded_from_dumps()) << ctx_map->describe();
  for (const auto& h : find_in_memory(getpid(), maps, key)) {
    if (h.address == own) continue;
    const auto* m = mapping_of(maps, h.address);
    EXPECT_TRUE(m && m->excluded_from_dumps()) << (m ? m->describe() : "no mapping");
  }

  EVP_CIPHER_CTX_free(ctx);
  // A copy on this thread's stack below this frame was the lazy PLT resolver
  // saving vector registers (no longer: the binaries are linked -z now).
  const auto frame = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
  for (const auto& h : find_in_memory(getpid(), read_mappings(getpid()), key))
    EXPECT_EQ(h.address, own) << "the key is still at " << std::hex << h.address << std::dec << " ("
                              << static_cast<std::intptr_t>(h.address - frame) << " bytes from this frame)";
}

}  // namespace
}  // namespace secmem
