// AVX-512BW kernels (this file alone is compiled with -mavx512f -mavx512bw).
// From 256 bytes on, a head of 1/2/4/8/16/32 bytes aligns the stores to 64
// bytes; the main loop does 4 x 64 bytes per iteration; the tail does whole
// vectors, then descends 32/16/8/4/2/1. Inputs under 64 bytes take one masked
// operation.
//
// Heads and tails are not masked: a load that overlaps an earlier masked
// store to the same bytes cannot take its data from the store buffer and
// waits for it to retire, which made XORing one buffer repeatedly (as the
// benchmarks do) about 45 % slower at 1316 bytes.
#include <immintrin.h>

#include "blocks.h"
#include "kernels.h"
#include "sources.h"

namespace fastxor::impl {
namespace {

inline __m512i load64(const std::uint8_t* p) noexcept { return _mm512_loadu_si512(p); }
inline void store64(std::uint8_t* p, __m512i v) noexcept { _mm512_storeu_si512(p, v); }

inline void xor256(std::uint8_t* buf, __m512i k0, __m512i k1, __m512i k2, __m512i k3) noexcept {
  const __m512i a = _mm512_xor_si512(load64(buf), k0);
  const __m512i b = _mm512_xor_si512(load64(buf + 64), k1);
  const __m512i c = _mm512_xor_si512(load64(buf + 128), k2);
  const __m512i d = _mm512_xor_si512(load64(buf + 192), k3);
  store64(buf, a);
  store64(buf + 64, b);
  store64(buf + 128, c);
  store64(buf + 192, d);
}

// buf[0, m) ^= src[0, m) for m < 64; masked-off bytes are neither read nor written.
inline void xor_masked(std::uint8_t* buf, const std::uint8_t* src, std::size_t m) noexcept {
  const __mmask64 k = (std::uint64_t{1} << m) - 1;
  const __m512i x = _mm512_xor_si512(_mm512_maskz_loadu_epi8(k, buf), _mm512_maskz_loadu_epi8(k, src));
  _mm512_mask_storeu_epi8(buf, k, x);
}

// Whole 256-byte blocks of a keystream that repeats every 256 bytes (the
// period of every pattern whose length divides 256): its four vectors stay in
// registers, so the loop reads only buf, like a memcpy. Returns the bytes done.
inline std::size_t xor_blocks_period256(std::uint8_t* buf, std::size_t n, const std::uint8_t* k) noexcept {
  const __m512i k0 = load64(k), k1 = load64(k + 64), k2 = load64(k + 128), k3 = load64(k + 192);
  std::size_t done = 0;
  for (; n - done >= 256; done += 256) xor256(buf + done, k0, k1, k2, k3);
  return done;
}

// Aligning the stores takes up to 5 or 6 small steps: worth it only ahead of
// whole main-loop blocks (measured at 188 bytes: 30 % slower from 64 or 128).
constexpr std::size_t kAlignFrom = 256;

template <class Src>
inline void xor_avx512(std::uint8_t* buf, std::size_t n, Src& src) noexcept {
  if (n < 64) {
    xor_masked(buf, src.at(), n);
    src.advance(n);
    src.wrap();
    return;
  }
  if (n >= kAlignFrom) {
    const std::size_t head = (0 - reinterpret_cast<std::uintptr_t>(buf)) & 63;
    xor_head<64>(buf, head, src);
    src.wrap();
    n -= head;
  }
  if constexpr (Src::kPattern) {
    // Whole periods: the position does not move.
    if (n >= 256 && src.period() == Pattern::kMinPeriod) {
      const std::size_t done = xor_blocks_period256(buf, n, src.at());
      buf += done;
      n -= done;
    }
  }
  for (; n >= 256; n -= 256, buf += 256) {
    xor256(buf, load64(src.at()), load64(src.at() + 64), load64(src.at() + 128), load64(src.at() + 192));
    src.advance(256);
    src.wrap();
  }
  // Under 256 bytes past a wrapped position: inside the overhang.
  for (; n >= 64; n -= 64, buf += 64) {
    store64(buf, _mm512_xor_si512(load64(buf), load64(src.at())));
    src.advance(64);
  }
  xor_tail(buf, n, src);
  src.wrap();
}

}  // namespace

std::size_t xor_pattern_avx512(std::uint8_t* buf, std::size_t n, const Pattern& p, std::size_t pos) noexcept {
  PatternSource src(p, pos);
  xor_avx512(buf, n, src);
  return src.pos();
}

void xor_keystream_avx512(std::uint8_t* buf, const std::uint8_t* ks, std::size_t n) noexcept {
  StreamSource src(ks);
  xor_avx512(buf, n, src);
}

}  // namespace fastxor::impl
