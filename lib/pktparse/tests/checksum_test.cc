// Internet checksum: known answers, the fast sum against a byte-wise
// reference, and UDP over IPv4/IPv6 computed and verified both ways.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "../src/checksum_kernels.h"
#include "fastxor/fastxor.h"
#include "pktparse/checksum.h"

namespace pktparse {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes hex(const char* s) {
  Bytes b;
  auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  for (; *s != '\0'; ++s) {
    if (*s == ' ') continue;
    b.push_back(static_cast<std::uint8_t>(nibble(s[0]) * 16 + nibble(s[1])));
    ++s;
  }
  return b;
}

std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }

// RFC 1071 taken literally: 16-bit big-endian words, odd byte padded.
std::uint16_t reference_sum(const Bytes& b) {
  std::uint64_t s = 0;
  for (std::size_t i = 0; i < b.size(); i += 2) {
    s += std::uint64_t{b[i]} << 8;
    if (i + 1 < b.size()) s += b[i + 1];
  }
  while (s >> 16) s = (s & 0xFFFF) + (s >> 16);
  return static_cast<std::uint16_t>(s);
}

// Explicit pseudo-header + UDP datagram, as the RFCs draw them.
std::uint16_t reference_udp_checksum(const Bytes& ip, Bytes udp) {
  udp[6] = udp[7] = 0;
  Bytes all;
  const auto len = static_cast<std::uint16_t>(udp.size());
  if (ip[0] >> 4 == 4) {
    all.insert(all.end(), ip.begin() + 12, ip.begin() + 20);
    all.insert(all.end(), {0, 17, static_cast<std::uint8_t>(len >> 8), static_cast<std::uint8_t>(len)});
  } else {
    all.insert(all.end(), ip.begin() + 8, ip.begin() + 40);
    all.insert(all.end(), {0, 0, static_cast<std::uint8_t>(len >> 8), static_cast<std::uint8_t>(len)});
    all.insert(all.end(), {0, 0, 0, 17});
  }
  all.insert(all.end(), udp.begin(), udp.end());
  const auto c = static_cast<std::uint16_t>(~reference_sum(all));
  return c == 0 ? 0xFFFF : c;
}

const char* const kIpv4Header = "4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7";
const char* const kIpv6Header =
    "6000 0000 0019 1140 20010db8000000000000000000000001 ff3e0000000000000000000000001234";
// 1024 -> 53, length 25, checksum zeroed; payload "keycast-checksum" + 0x7f.
const char* const kUdp = "0400 0035 0019 0000 6b6579636173742d636865636b73756d 7f";

TEST(OnesSum, Rfc1071Example) {
  const Bytes b = hex("0001 f203 f4f5 f6f7");
  EXPECT_EQ(ones_sum(b), 0xddf2u);
  EXPECT_EQ(static_cast<std::uint16_t>(~fold(ones_sum(b))), 0x220d);
}

TEST(OnesSum, EmptyAndInitial) {
  EXPECT_EQ(ones_sum({}), 0u);
  EXPECT_EQ(ones_sum({}, 0x1234), 0x1234u);
  EXPECT_EQ(ones_sum({}, 0x12345), 0x2346u);
  EXPECT_EQ(ones_sum({}, 0xFFFFFFFF), 0xFFFFu);
  const Bytes b = hex("ffff ffff ff");
  EXPECT_EQ(ones_sum(b, 0xFFFFFFFF), 0xFF00u);  // 0xffff + 0xffff + 0xff00 + 0xffff
}

TEST(OnesSum, OddLength) {
  EXPECT_EQ(ones_sum(hex("ab")), 0xab00u);
  EXPECT_EQ(ones_sum(hex("0102 03")), 0x0402u);
  EXPECT_EQ(ones_sum(hex("0001 f203 f4f5 f6f7 01")), fold(0xddf2 + 0x0100));
}

TEST(OnesSum, MatchesReferenceAtEveryLengthAndAlignment) {
  std::mt19937 rng(1071);
  Bytes big(1600);
  for (auto& x : big) x = static_cast<std::uint8_t>(rng());
  for (std::size_t align = 0; align < 8; ++align) {
    for (std::size_t len = 0; len + align <= 300; ++len) {
      const Bytes piece(big.begin() + align, big.begin() + align + len);
      ASSERT_EQ(ones_sum({big.data() + align, len}), reference_sum(piece)) << align << " " << len;
    }
  }
  EXPECT_EQ(ones_sum(big), reference_sum(big));
  const Bytes ones(1501, 0xFF);  // carries at every step
  EXPECT_EQ(ones_sum(ones), reference_sum(ones));
}

TEST(OnesSum, ChainedEvenPieces) {
  std::mt19937 rng(768);
  Bytes b(333);
  for (auto& x : b) x = static_cast<std::uint8_t>(rng());
  const std::span<const std::uint8_t> all(b);
  for (std::size_t cut = 0; cut <= b.size(); cut += 2) {
    EXPECT_EQ(ones_sum(all.subspan(cut), ones_sum(all.first(cut))), ones_sum(all)) << cut;
  }
}

TEST(OnesSum, LongBuffersAndEveryTailLength) {
  std::mt19937 rng(65507);
  Bytes big(65507 + 8);
  for (auto& x : big) x = static_cast<std::uint8_t>(rng());
  for (const std::size_t len : {1316u, 1340u, 1500u, 9000u, 65507u})
    for (std::size_t align = 0; align < 4; ++align)
      for (std::size_t extra = 0; extra < 4; ++extra) {
        const std::size_t n = std::min(len + extra, big.size() - align);
        const Bytes piece(big.begin() + align, big.begin() + align + n);
        ASSERT_EQ(ones_sum({big.data() + align, n}), reference_sum(piece)) << n << " at " << align;
      }
}

// Each kernel behind ones_sum() against the reference, whichever one the
// dispatch would pick here: the portable one (GCC multiversioned) always, the
// AVX-512 one where the CPU has it (reported skipped elsewhere).
std::uint16_t network_order(std::uint16_t native) { return static_cast<std::uint16_t>((native >> 8) | (native << 8)); }

std::uint16_t fold64(std::uint64_t s) {
  while (s >> 16) s = (s & 0xFFFF) + (s >> 16);
  return static_cast<std::uint16_t>(s);
}

Bytes random_bytes(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  Bytes b(n);
  for (auto& x : b) x = static_cast<std::uint8_t>(rng());
  return b;
}

// Every length up to 400, then datagram sizes (odd ones too) up to a jumbo.
std::vector<std::size_t> kernel_lengths() {
  std::vector<std::size_t> lengths;
  for (std::size_t n = 0; n <= 400; ++n) lengths.push_back(n);
  for (const std::size_t n : {1316u, 1317u, 1340u, 1348u, 1500u, 1501u, 8999u, 9000u}) lengths.push_back(n);
  return lengths;
}

template <class Kernel>
void check_kernel(Kernel sum_from) {
  const Bytes big = random_bytes(9000 + 128, 1071);
  for (std::size_t align = 0; align < 64; ++align)
    for (const std::size_t n : kernel_lengths()) {
      const std::uint8_t* p = big.data() + align;
      ASSERT_EQ(sum_from(p, n), reference_sum(Bytes(p, p + n))) << n << " bytes at " << align;
    }
  const Bytes ones(65507, 0xFF);  // a lane's worst case
  ASSERT_EQ(sum_from(ones.data(), ones.size()), reference_sum(ones));
}

TEST(OnesSumKernels, PortableMatchesReference) {
  check_kernel([](const std::uint8_t* p, std::size_t n) { return network_order(detail::portable_sum(p, n)); });
}

using EvenAddressSum = std::uint64_t (*)(const std::uint8_t*, std::size_t) noexcept;

void check_even_address_kernel(EvenAddressSum kernel) {
  check_kernel([kernel](const std::uint8_t* p, std::size_t n) {
    std::uint16_t s = fold64(kernel(p, n));
    if (reinterpret_cast<std::uintptr_t>(p) & 1) s = static_cast<std::uint16_t>((s >> 8) | (s << 8));
    return network_order(s);
  });
}

// At its bound every 32-bit lane of a vector kernel holds the words of up to
// 2^16 + 1 vectors (the most when the buffer starts at the last byte of an
// aligned vector): with all-ones words its unfolded sum must still be exact
// (a lane that wrapped would be 2^32 off, which folding hides).
void check_exact_up_to(EvenAddressSum kernel, std::size_t bound, std::uintptr_t vector_bytes) {
  const std::size_t n = bound - 1;
  const Bytes b(n + vector_bytes, 0xFF);
  for (const std::uintptr_t offset : {std::uintptr_t{0}, std::uintptr_t{1}, vector_bytes - 1}) {
    const std::uint8_t* p = b.data() + ((offset - reinterpret_cast<std::uintptr_t>(b.data())) & (vector_bytes - 1));
    const std::uint64_t at_even = (n + ((reinterpret_cast<std::uintptr_t>(p) & 1) ? 0 : 1)) / 2;
    const std::uint64_t expected = 0xFFull * at_even + 0xFF00ull * (n - at_even);
    ASSERT_EQ(kernel(p, n), expected) << offset;
  }
}

TEST(OnesSumKernels, Avx512MatchesReference) {
  if (!fastxor::cpu_has_avx512bw()) GTEST_SKIP() << "no AVX-512BW on this CPU";
  check_even_address_kernel(detail::even_address_sum_avx512);
}

TEST(OnesSumKernels, Avx512ExactUpToItsBound) {
  if (!fastxor::cpu_has_avx512bw()) GTEST_SKIP() << "no AVX-512BW on this CPU";
  check_exact_up_to(detail::even_address_sum_avx512, detail::kMaxAvx512SumBytes, 64);
}

TEST(OnesSumKernels, Avx2MatchesReference) {
  if (!fastxor::cpu_has_avx2()) GTEST_SKIP() << "no AVX2 on this CPU";
  check_even_address_kernel(detail::even_address_sum_avx2);
}

TEST(OnesSumKernels, Avx2ExactUpToItsBound) {
  if (!fastxor::cpu_has_avx2()) GTEST_SKIP() << "no AVX2 on this CPU";
  check_exact_up_to(detail::even_address_sum_avx2, detail::kMaxAvx2SumBytes, 32);
}

// The fused XOR-and-sum kernels: every byte XORed, none outside touched, and
// the sum of the bytes written, counted from buf at any address.
using XorSum = std::uint64_t (*)(std::uint8_t*, const std::uint8_t*, std::size_t) noexcept;

std::uint16_t network_sum_from_buf(std::uint64_t native) { return network_order(fold64(native)); }

void check_xor_sum_kernel(XorSum kernel) {
  const Bytes data = random_bytes(9000 + 128, 1316);
  const Bytes ks = random_bytes(9000 + 128, 1317);
  for (std::size_t align = 0; align < 64; ++align)
    for (const std::size_t n : kernel_lengths()) {
      const std::size_t ks_align = (align * 7 + 3) % 64;
      Bytes buf = data;
      Bytes want(data.begin() + align, data.begin() + align + n);
      for (std::size_t i = 0; i < n; ++i) want[i] ^= ks[ks_align + i];
      const std::uint64_t sum = kernel(buf.data() + align, ks.data() + ks_align, n);
      ASSERT_TRUE(std::equal(want.begin(), want.end(), buf.begin() + align)) << n << " bytes at " << align;
      ASSERT_TRUE(std::equal(buf.begin(), buf.begin() + align, data.begin()) &&
                  std::equal(buf.begin() + align + n, buf.end(), data.begin() + align + n))
          << n << " bytes at " << align << ": wrote outside";
      ASSERT_EQ(network_sum_from_buf(sum), reference_sum(want)) << n << " bytes at " << align;
    }
  Bytes same(1500, 0x5A);
  ASSERT_EQ(fold64(kernel(same.data() + 1, same.data() + 1, 1499)), 0);  // in place: all zero
  ASSERT_EQ(same[0], 0x5A);
}

// At its bound, with all-ones words (as check_exact_up_to for the sums).
void check_xor_sum_up_to(XorSum kernel, std::size_t bound) {
  const std::size_t n = bound - 1;
  for (const std::size_t align : {0u, 1u}) {
    Bytes buf(n + 1, 0xFF);
    const Bytes zeros(n, 0);
    const std::uint64_t sum = kernel(buf.data() + align, zeros.data(), n);
    ASSERT_EQ(network_sum_from_buf(sum), reference_sum(Bytes(n, 0xFF))) << align;
  }
}

TEST(XorSumKernels, PortableMatchesReference) { check_xor_sum_kernel(detail::xor_sum_portable); }

TEST(XorSumKernels, Avx512MatchesReference) {
  if (!fastxor::cpu_has_avx512bw()) GTEST_SKIP() << "no AVX-512BW on this CPU";
  check_xor_sum_kernel(detail::xor_sum_avx512);
  check_xor_sum_up_to(detail::xor_sum_avx512, detail::kMaxAvx512SumBytes);
}

TEST(XorSumKernels, Avx2MatchesReference) {
  if (!fastxor::cpu_has_avx2()) GTEST_SKIP() << "no AVX2 on this CPU";
  check_xor_sum_kernel(detail::xor_sum_avx2);
  check_xor_sum_up_to(detail::xor_sum_avx2, detail::kMaxAvx2SumBytes);
}

// The dispatched one, past the vector kernels' bound too (it splits there).
TEST(XorSumKernels, DispatchedMatchesReferenceAtAnyLength) {
  check_xor_sum_kernel(detail::xor_sum);
  for (const std::size_t n : {detail::kMaxAvx2SumBytes + 3, detail::kMaxAvx512SumBytes + 65}) {
    Bytes buf = random_bytes(n, 22);
    const Bytes ks = random_bytes(n, 23);
    Bytes want = buf;
    for (std::size_t i = 0; i < n; ++i) want[i] ^= ks[i];
    ASSERT_EQ(network_sum_from_buf(detail::xor_sum(buf.data(), ks.data(), n)), reference_sum(want)) << n;
    ASSERT_EQ(buf, want) << n;
  }
}

TEST(Fold, Carries) {
  EXPECT_EQ(fold(0), 0);
  EXPECT_EQ(fold(0xFFFF), 0xFFFF);
  EXPECT_EQ(fold(0x10000), 0x0001);
  EXPECT_EQ(fold(0x2ddf0), 0xddf2);
  EXPECT_EQ(fold(0x1FFFE), 0xFFFF);
  EXPECT_EQ(fold(0xFFFFFFFF), 0xFFFF);
  EXPECT_EQ(fold(0xFFFF0001), 0x0001);
}

TEST(Ipv4Checksum, KnownHeader) {
  Bytes ip = hex(kIpv4Header);
  EXPECT_TRUE(ipv4_checksum_ok(ip.data()));
  ip[10] = 0;
  ip[11] = 0;
  EXPECT_FALSE(ipv4_checksum_ok(ip.data()));
  set_ipv4_checksum(ip.data());
  EXPECT_EQ(be16(ip.data() + 10), 0xb861);
  set_ipv4_checksum(ip.data());  // idempotent: ignores the old value
  EXPECT_EQ(be16(ip.data() + 10), 0xb861);
}

TEST(Ipv4Checksum, DetectsEveryBitFlip) {
  const Bytes good = hex(kIpv4Header);
  for (std::size_t bit = 0; bit < good.size() * 8; ++bit) {
    Bytes ip = good;
    ip[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    if (bit / 8 == 0 && (ip[0] & 0x0F) != 5) continue;  // IHL changed: other bytes
    EXPECT_FALSE(ipv4_checksum_ok(ip.data())) << bit;
  }
}

TEST(Ipv4Checksum, WithOptions) {
  Bytes ip = hex("4700 0020 1234 0000 4011 0000 0a00 0001 0a00 0002 0101 0101 9404 0000");
  set_ipv4_checksum(ip.data());
  EXPECT_EQ(be16(ip.data() + 10), static_cast<std::uint16_t>(~reference_sum(
                                      [&] { Bytes z = ip; z[10] = z[11] = 0; return z; }())));
  EXPECT_TRUE(ipv4_checksum_ok(ip.data()));
  ip[27] ^= 1;  // inside the options
  EXPECT_FALSE(ipv4_checksum_ok(ip.data()));
}

TEST(UdpChecksum, Ipv4KnownAnswer) {
  const Bytes ip = hex(kIpv4Header);
  Bytes udp = hex(kUdp);
  EXPECT_EQ(reference_udp_checksum(ip, udp), 0x9657);
  set_udp_checksum(ip.data(), udp.data());
  EXPECT_EQ(be16(udp.data() + 6), 0x9657);
  EXPECT_TRUE(udp_checksum_ok(ip.data(), udp.data()));
  udp[8] ^= 0x20;
  EXPECT_FALSE(udp_checksum_ok(ip.data(), udp.data()));
}

TEST(UdpChecksum, Ipv6KnownAnswer) {
  const Bytes ip = hex(kIpv6Header);
  Bytes udp = hex(kUdp);
  EXPECT_EQ(reference_udp_checksum(ip, udp), 0xd943);
  set_udp_checksum(ip.data(), udp.data());
  EXPECT_EQ(be16(udp.data() + 6), 0xd943);
  EXPECT_TRUE(udp_checksum_ok(ip.data(), udp.data()));
  udp.back() ^= 0x01;  // the odd trailing byte counts
  EXPECT_FALSE(udp_checksum_ok(ip.data(), udp.data()));
}

TEST(UdpChecksum, PseudoHeaderCounts) {
  for (const char* h : {kIpv4Header, kIpv6Header}) {
    Bytes ip = hex(h);
    Bytes udp = hex(kUdp);
    set_udp_checksum(ip.data(), udp.data());
    ASSERT_TRUE(udp_checksum_ok(ip.data(), udp.data()));
    Bytes other = ip;
    other.back() ^= 0x01;  // destination address
    EXPECT_FALSE(udp_checksum_ok(other.data(), udp.data())) << h;
  }
}

// Random datagrams at every offset from a cache line (odd ones too), with
// whatever the checksum field held before: the checksum written is the
// reference one and checks out, a flipped bit fails it; and the pseudo-header
// sum written for a NIC's checksum offload, completed as the NIC does (the UDP
// header and payload summed with it, inverted), gives the same checksum.
TEST(UdpChecksum, RandomDatagramsBothWaysAndByOffload) {
  std::mt19937 rng(17);
  std::vector<std::size_t> lengths;
  for (std::size_t n = 0; n < 160; ++n) lengths.push_back(n);
  for (std::size_t n : {255, 256, 257, 1316, 1340, 1341, 1464, 1465}) lengths.push_back(n);
  for (const char* h : {kIpv4Header, kIpv6Header}) {
    const Bytes ip = hex(h);
    for (std::size_t i = 0; i < lengths.size(); ++i) {
      const std::size_t n = lengths[i];
      const std::size_t offset = (i * 7) % 64;
      Bytes udp(8 + n);
      for (auto& x : udp) x = static_cast<std::uint8_t>(rng());
      udp[4] = static_cast<std::uint8_t>(udp.size() >> 8);
      udp[5] = static_cast<std::uint8_t>(udp.size());
      const std::uint16_t want = reference_udp_checksum(ip, udp);

      Bytes offloaded = udp;
      set_udp_pseudo_header_sum(ip.data(), offloaded.data());
      const auto completed = static_cast<std::uint16_t>(~fold(ones_sum(offloaded)));
      ASSERT_EQ(completed == 0 ? 0xFFFF : completed, want) << h << " " << n;

      alignas(64) std::uint8_t buf[64 + 8 + 1465];
      std::uint8_t* at = buf + offset;
      std::copy(udp.begin(), udp.end(), at);
      set_udp_checksum(ip.data(), at);
      ASSERT_EQ(be16(at + 6), want) << h << " " << n << " at +" << offset;
      ASSERT_TRUE(udp_checksum_ok(ip.data(), at));
      std::size_t flip = rng() % udp.size();
      if (flip == 4 || flip == 5) flip = 0;  // keep the length field in bounds
      at[flip] ^= 0x10;
      ASSERT_FALSE(udp_checksum_ok(ip.data(), at)) << h << " " << n << " at +" << offset;
    }
  }
}

TEST(UdpChecksum, ZeroIsSentAsFfff) {
  for (const char* h : {kIpv4Header, kIpv6Header}) {
    const Bytes ip = hex(h);
    Bytes udp = hex("0400 0035 000a 0000 0000");
    // With the payload word equal to the checksum it would get, the sum is
    // 0xFFFF and the computed checksum 0.
    const std::uint16_t word = reference_udp_checksum(ip, udp);
    udp[8] = static_cast<std::uint8_t>(word >> 8);
    udp[9] = static_cast<std::uint8_t>(word);
    set_udp_checksum(ip.data(), udp.data());
    EXPECT_EQ(be16(udp.data() + 6), 0xFFFF) << h;
    EXPECT_TRUE(udp_checksum_ok(ip.data(), udp.data())) << h;
  }
}

TEST(UdpChecksum, ZeroMeansNoneOnlyOverIpv4) {
  Bytes udp = hex(kUdp);  // checksum field 0
  EXPECT_TRUE(udp_checksum_ok(hex(kIpv4Header).data(), udp.data()));
  EXPECT_FALSE(udp_checksum_ok(hex(kIpv6Header).data(), udp.data()));
}

}  // namespace
}  // namespace pktparse
