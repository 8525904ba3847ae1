// Internal: XOR of small fixed-size blocks, for the heads and tails of the
// SIMD kernels. Include only from a file compiled with at least -mavx2.
//
// Everything here, and in sources.h, has internal linkage on purpose: the
// AVX2 and AVX-512 files are compiled with different ISA flags, and a shared
// inline definition would let the linker keep one ISA's copy for both.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace fastxor::impl {
namespace {

// buf[0, S) ^= src[0, S) for S in 1, 2, 4, 8, 16, 32.
template <std::size_t S>
inline void xor_block(std::uint8_t* buf, const std::uint8_t* src) noexcept {
  if constexpr (S == 32) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(buf));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(buf), _mm256_xor_si256(a, b));
  } else if constexpr (S == 16) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(buf));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(buf), _mm_xor_si128(a, b));
  } else {
    using W = std::conditional_t<S == 8, std::uint64_t,
              std::conditional_t<S == 4, std::uint32_t, std::conditional_t<S == 2, std::uint16_t, std::uint8_t>>>;
    static_assert(sizeof(W) == S);
    W a;
    W b;
    std::memcpy(&a, buf, S);
    std::memcpy(&b, src, S);
    a = static_cast<W>(a ^ b);
    std::memcpy(buf, &a, S);
  }
}

// One block from a keystream source (sources.h), advancing both.
template <std::size_t S, class Src>
inline void step(std::uint8_t*& buf, Src& src) noexcept {
  xor_block<S>(buf, src.at());
  buf += S;
  src.advance(S);
}

// Peels head < Align bytes (head = bytes to the next Align boundary) in
// ascending power-of-two steps, so that every step's store is aligned and buf
// ends Align-aligned.
template <std::size_t Align, class Src>
inline void xor_head(std::uint8_t*& buf, std::size_t head, Src& src) noexcept {
  static_assert(Align == 32 || Align == 64);
  if (head & 1) step<1>(buf, src);
  if (head & 2) step<2>(buf, src);
  if (head & 4) step<4>(buf, src);
  if (head & 8) step<8>(buf, src);
  if (head & 16) step<16>(buf, src);
  if constexpr (Align == 64) {
    if (head & 32) step<32>(buf, src);
  }
}

// The last n < 64 bytes, in descending power-of-two steps.
template <class Src>
inline void xor_tail(std::uint8_t*& buf, std::size_t n, Src& src) noexcept {
  if (n & 32) step<32>(buf, src);
  if (n & 16) step<16>(buf, src);
  if (n & 8) step<8>(buf, src);
  if (n & 4) step<4>(buf, src);
  if (n & 2) step<2>(buf, src);
  if (n & 1) step<1>(buf, src);
}

}  // namespace
}  // namespace fastxor::impl
