// AVX2 kernels (this file alone is compiled with -mavx2). From 256 bytes on,
// a head of 1/2/4/8/16 bytes aligns the stores to 32 bytes; the main loop
// does 4 x 32 bytes per iteration; the tail descends 64/32/16/8/4/2/1.
#include <immintrin.h>

#include "blocks.h"
#include "kernels.h"
#include "sources.h"

namespace fastxor::impl {
namespace {

inline __m256i load32(const std::uint8_t* p) noexcept { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
inline void store32(std::uint8_t* p, __m256i v) noexcept { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }

inline void xor128(std::uint8_t* buf, __m256i k0, __m256i k1, __m256i k2, __m256i k3) noexcept {
  const __m256i a = _mm256_xor_si256(load32(buf), k0);
  const __m256i b = _mm256_xor_si256(load32(buf + 32), k1);
  const __m256i c = _mm256_xor_si256(load32(buf + 64), k2);
  const __m256i d = _mm256_xor_si256(load32(buf + 96), k3);
  store32(buf, a);
  store32(buf + 32, b);
  store32(buf + 64, c);
  store32(buf + 96, d);
}

// Whole 128-byte blocks of a keystream that repeats every 256 bytes (the
// period of every pattern whose length divides 256): its eight vectors stay
// in registers, so the loop reads only buf, like a memcpy. Returns the bytes
// done.
inline std::size_t xor_blocks_period256(std::uint8_t* buf, std::size_t n, const std::uint8_t* k) noexcept {
  const __m256i k0 = load32(k), k1 = load32(k + 32), k2 = load32(k + 64), k3 = load32(k + 96);
  const __m256i k4 = load32(k + 128), k5 = load32(k + 160), k6 = load32(k + 192), k7 = load32(k + 224);
  std::size_t done = 0;
  for (; n - done >= 256; done += 256) {
    xor128(buf + done, k0, k1, k2, k3);
    xor128(buf + done + 128, k4, k5, k6, k7);
  }
  if (n - done >= 128) {
    xor128(buf + done, k0, k1, k2, k3);
    done += 128;
  }
  return done;
}

// Aligning the stores takes up to 5 or 6 small steps: worth it only ahead of
// whole main-loop blocks (measured at 188 bytes: 30 % slower from 64 or 128).
constexpr std::size_t kAlignFrom = 256;

template <class Src>
inline void xor_avx2(std::uint8_t* buf, std::size_t n, Src& src) noexcept {
  if (n >= kAlignFrom) {
    const std::size_t head = (0 - reinterpret_cast<std::uintptr_t>(buf)) & 31;
    xor_head<32>(buf, head, src);
    src.wrap();
    n -= head;
  }
  if constexpr (Src::kPattern) {
    if (n >= 128 && src.period() == Pattern::kMinPeriod) {
      const std::size_t done = xor_blocks_period256(buf, n, src.at());
      buf += done;
      n -= done;
      src.advance(done % Pattern::kMinPeriod);
      src.wrap();
    }
  }
  for (; n >= 128; n -= 128, buf += 128) {
    xor128(buf, load32(src.at()), load32(src.at() + 32), load32(src.at() + 64), load32(src.at() + 96));
    src.advance(128);
    src.wrap();
  }
  // Under 128 bytes past a wrapped position: inside the overhang.
  if (n & 64) {
    step<32>(buf, src);
    step<32>(buf, src);
  }
  xor_tail(buf, n & 63, src);
  src.wrap();
}

}  // namespace

std::size_t xor_pattern_avx2(std::uint8_t* buf, std::size_t n, const Pattern& p, std::size_t pos) noexcept {
  PatternSource src(p, pos);
  xor_avx2(buf, n, src);
  return src.pos();
}

void xor_keystream_avx2(std::uint8_t* buf, const std::uint8_t* ks, std::size_t n) noexcept {
  StreamSource src(ks);
  xor_avx2(buf, n, src);
}

}  // namespace fastxor::impl
