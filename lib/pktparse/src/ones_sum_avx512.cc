// AVX-512BW one's-complement sums (this file alone is compiled with -mavx512f
// -mavx512bw).
// even_address_sum: every load is of a whole aligned 64-byte line, the first
// and last masked to the bytes asked for: no load splits across two cache
// lines, and one that matches a line an XOR kernel just stored can take its
// data from that one store (an unaligned load straddles two and waits for both).
// xor_sum: XORs and sums in one pass, in 64-byte vectors from buf and a masked
// last one. Its stores are not aligned: on a datagram fresh from the port's
// copy, it took as long as fastxor's aligned XOR alone and 14 ns less than
// that XOR followed by even_address_sum (1316 bytes, Zen5).
// GCC 12's shift and 256-bit extract intrinsics pass
// _mm512_undefined_epi32() through, which -W(maybe-)uninitialized reports
// (GCC PR 105593, fixed in GCC 13).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#include "checksum_kernels.h"

namespace pktparse::detail {
namespace {

// Per 32-bit lane: `all` += w (mod 2^32), `high` += w >> 16; the lane's low
// halves then sum to exactly all - (high << 16) while that stays below 2^32:
// n < kMaxAvx512SumBytes touches at most 2^16 + 1 lines, and
// (2^16 + 1) x 0xFFFF < 2^32.
struct Lanes {
  __m512i all = _mm512_setzero_si512();
  __m512i high = _mm512_setzero_si512();
  void add(__m512i v) noexcept {
    all = _mm512_add_epi32(all, v);
    high = _mm512_add_epi32(high, _mm512_srli_epi32(v, 16));
  }
  // The other lanes' words added in (the bound above is for both together).
  void merge(const Lanes& o) noexcept {
    all = _mm512_add_epi32(all, o.all);
    high = _mm512_add_epi32(high, o.high);
  }
  std::uint64_t total() const noexcept {
    const __m512i low = _mm512_sub_epi32(all, _mm512_slli_epi32(high, 16));
    const __m512i mask32 = _mm512_set1_epi64(0xFFFFFFFF);
    const __m512i sum64 = _mm512_add_epi64(_mm512_add_epi64(_mm512_and_si512(low, mask32), _mm512_srli_epi64(low, 32)),
                                           _mm512_add_epi64(_mm512_and_si512(high, mask32), _mm512_srli_epi64(high, 32)));
    // In registers: a store and eight reloads wait on store forwarding.
    const __m256i s4 = _mm256_add_epi64(_mm512_castsi512_si256(sum64), _mm512_extracti64x4_epi64(sum64, 1));
    const __m128i s2 = _mm_add_epi64(_mm256_castsi256_si128(s4), _mm256_extracti128_si256(s4, 1));
    return static_cast<std::uint64_t>(_mm_cvtsi128_si64(_mm_add_epi64(s2, _mm_unpackhi_epi64(s2, s2))));
  }
};

inline __m512i xor_vector(std::uint8_t* buf, const std::uint8_t* ks) noexcept {
  const __m512i x = _mm512_xor_si512(_mm512_loadu_si512(buf), _mm512_loadu_si512(ks));
  _mm512_storeu_si512(buf, x);
  return x;
}

}  // namespace

std::uint64_t xor_sum_avx512(std::uint8_t* buf, const std::uint8_t* ks, std::size_t n) noexcept {
  Lanes a;
  Lanes b;
  std::size_t i = 0;
  for (; n - i >= 128; i += 128) {
    a.add(xor_vector(buf + i, ks + i));
    b.add(xor_vector(buf + i + 64, ks + i + 64));
  }
  if (n - i >= 64) {
    a.add(xor_vector(buf + i, ks + i));
    i += 64;
  }
  if (n > i) {
    const __mmask64 k = (__mmask64{1} << (n - i)) - 1;
    const __m512i x = _mm512_xor_si512(_mm512_maskz_loadu_epi8(k, buf + i), _mm512_maskz_loadu_epi8(k, ks + i));
    _mm512_mask_storeu_epi8(buf + i, k, x);
    b.add(x);
  }
  a.merge(b);
  return a.total();
}

std::uint64_t even_address_sum_avx512(const std::uint8_t* p, std::size_t n) noexcept {
  if (n == 0) return 0;
  const auto* line = reinterpret_cast<const std::uint8_t*>(reinterpret_cast<std::uintptr_t>(p) & ~std::uintptr_t{63});
  const std::size_t first = reinterpret_cast<std::uintptr_t>(p) & 63;
  std::size_t end = first + n;  // bytes from `line`
  Lanes a;
  Lanes b;
  if (end <= 64) {
    const __mmask64 m = (end == 64 ? ~__mmask64{0} : (__mmask64{1} << end) - 1) & (~__mmask64{0} << first);
    a.add(_mm512_maskz_loadu_epi8(m, line));
    return a.total();
  }
  a.add(_mm512_maskz_loadu_epi8(~__mmask64{0} << first, line));
  line += 64;
  end -= 64;
  for (; end >= 256; end -= 256, line += 256) {
    a.add(_mm512_load_si512(line));
    b.add(_mm512_load_si512(line + 64));
    a.add(_mm512_load_si512(line + 128));
    b.add(_mm512_load_si512(line + 192));
  }
  for (; end >= 64; end -= 64, line += 64) a.add(_mm512_load_si512(line));
  if (end) b.add(_mm512_maskz_loadu_epi8((__mmask64{1} << end) - 1, line));
  a.merge(b);
  return a.total();
}

}  // namespace pktparse::detail
