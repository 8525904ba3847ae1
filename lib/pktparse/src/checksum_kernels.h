// Internal: the one's-complement sum kernels behind ones_sum(), for the
// dispatch in checksum.cc and for tests that run each against the reference.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pktparse::detail {

// The vector kernel's bound: below it, no 32-bit lane of its accumulators
// takes more than 2^16 words' low halves, so their total stays below 2^32.
inline constexpr std::size_t kMaxVectorSumBytes = std::size_t{1} << 22;

// Sum, unfolded, of the 16-bit native-order words of [p, p + n) at even
// addresses (a byte at an odd address is the high half of its word): the
// caller byte-swaps the folded sum when p is odd. n < kMaxVectorSumBytes.
// Only where the CPU and OS have AVX-512BW.
std::uint64_t even_address_sum_avx512(const std::uint8_t* p, std::size_t n) noexcept;

// Whether even_address_sum_avx512 may be called here.
bool have_avx512_sum() noexcept;

// The portable sum (GCC multiversioned): native-order 16-bit words from p,
// folded to 16 bits.
std::uint16_t portable_sum(const std::uint8_t* p, std::size_t n) noexcept;

}  // namespace pktparse::detail
