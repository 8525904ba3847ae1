// Internal: the one's-complement sum kernels behind ones_sum() (and the
// inline short sum net.cc checks IPv4 headers with), for the
// dispatch in checksum.cc and for tests that run each against the reference.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "pktparse/checksum.h"

namespace pktparse::detail {

inline std::uint16_t fold64(std::uint64_t acc) noexcept {
  acc = (acc & 0xFFFFFFFFu) + (acc >> 32);
  acc = (acc & 0xFFFFFFFFu) + (acc >> 32);
  return fold(static_cast<std::uint32_t>(acc));
}

// Native-order sum of a header-sized piece (the IPv4 header, a pseudo-header)
// in plain scalar code, inline: a vector loop and a call through a dispatcher
// cost more than they save at this size.
inline constexpr std::size_t kShortSum = 64;
inline std::uint64_t short_sum64(const std::uint8_t* p, std::size_t n) noexcept {
  std::uint64_t acc = 0;
  for (; n >= 4; p += 4, n -= 4) {
    std::uint32_t w;
    std::memcpy(&w, p, sizeof w);
    acc += w;
  }
  if (n > 0) {
    std::uint32_t w = 0;
    std::memcpy(&w, p, n);
    acc += w;
  }
  return acc;
}
inline std::uint16_t short_sum(const std::uint8_t* p, std::size_t n) noexcept { return fold64(short_sum64(p, n)); }

// The vector kernels' bounds: below them, no 32-bit lane of their
// accumulators takes more than 2^16 + 1 words' low halves, so their total
// stays below 2^32.
inline constexpr std::size_t kMaxAvx512SumBytes = std::size_t{1} << 22;
inline constexpr std::size_t kMaxAvx2SumBytes = std::size_t{1} << 21;

// Sum, unfolded, of the 16-bit native-order words of [p, p + n) at even
// addresses (a byte at an odd address is the high half of its word): the
// caller byte-swaps the folded sum when p is odd. n < kMaxAvx512SumBytes,
// only where fastxor::cpu_has_avx512bw().
std::uint64_t even_address_sum_avx512(const std::uint8_t* p, std::size_t n) noexcept;
// The same; n < kMaxAvx2SumBytes, only where fastxor::cpu_has_avx2().
std::uint64_t even_address_sum_avx2(const std::uint8_t* p, std::size_t n) noexcept;

// The portable sum (GCC multiversioned): native-order 16-bit words from p,
// folded to 16 bits.
std::uint16_t portable_sum(const std::uint8_t* p, std::size_t n) noexcept;

// Fused XOR and sum: buf[k] ^= ks[k] for k in [0, n) (buf and ks equal or not
// overlapping), returning the unfolded native-order sum of the bytes written,
// counted from buf (its first byte starts a 16-bit word whatever buf's
// address). The sum comes from the registers the XOR produced, so the UDP
// checksum reads nothing again. The vector kernels take n below their
// bound, as the sums above, and only where the CPU has their ISA.
std::uint64_t xor_sum_avx512(std::uint8_t* buf, const std::uint8_t* ks, std::size_t n) noexcept;
std::uint64_t xor_sum_avx2(std::uint8_t* buf, const std::uint8_t* ks, std::size_t n) noexcept;
std::uint64_t xor_sum_portable(std::uint8_t* buf, const std::uint8_t* ks, std::size_t n) noexcept;

// The fastest of those this CPU has (following fastxor's choice, so
// FASTXOR_IMPL holds here too), for any n.
std::uint64_t xor_sum(std::uint8_t* buf, const std::uint8_t* ks, std::size_t n) noexcept;

}  // namespace pktparse::detail
