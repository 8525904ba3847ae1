// AVX2 one's-complement sums (this file alone is compiled with -mavx2), the
// AVX-512 kernels' design at 32 bytes (xor_sum's last 0..31 bytes go to the
// portable kernel). even_address_sum: every load is of a whole aligned
// 32-byte block, the first and last masked to the bytes asked for, so no load
// splits across two cache lines and one that matches a block an XOR kernel
// just stored takes its data from that one store. The masked loads
// (vpmaskmovd) read only the dwords that hold wanted bytes (AVX2 has no byte
// mask); the AND then clears the unwanted bytes of those dwords.
#include <immintrin.h>

#include "checksum_kernels.h"

namespace pktparse::detail {
namespace {

// Per 32-bit lane: `all` += w (mod 2^32), `high` += w >> 16; the lane's low
// halves then sum to exactly all - (high << 16) while that stays below 2^32:
// n < kMaxAvx2SumBytes touches at most 2^16 + 1 blocks, and
// (2^16 + 1) x 0xFFFF < 2^32.
struct Lanes {
  __m256i all = _mm256_setzero_si256();
  __m256i high = _mm256_setzero_si256();
  void add(__m256i v) noexcept {
    all = _mm256_add_epi32(all, v);
    high = _mm256_add_epi32(high, _mm256_srli_epi32(v, 16));
  }
  void merge(const Lanes& o) noexcept {
    all = _mm256_add_epi32(all, o.all);
    high = _mm256_add_epi32(high, o.high);
  }
  std::uint64_t total() const noexcept {
    const __m256i low = _mm256_sub_epi32(all, _mm256_slli_epi32(high, 16));
    const __m256i mask32 = _mm256_set1_epi64x(0xFFFFFFFF);
    const __m256i s4 = _mm256_add_epi64(_mm256_add_epi64(_mm256_and_si256(low, mask32), _mm256_srli_epi64(low, 32)),
                                        _mm256_add_epi64(_mm256_and_si256(high, mask32), _mm256_srli_epi64(high, 32)));
    const __m128i s2 = _mm_add_epi64(_mm256_castsi256_si128(s4), _mm256_extracti128_si256(s4, 1));
    return static_cast<std::uint64_t>(_mm_cvtsi128_si64(_mm_add_epi64(s2, _mm_unpackhi_epi64(s2, s2))));
  }
};

// 32 zero bytes, 32 of 0xFF, 32 zero bytes: 32 bytes read from (64 - end)
// keep bytes [0, end); from (32 - begin), bytes [begin, 32).
alignas(32) constexpr std::uint8_t kWindow[96] = {
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
};

inline __m256i window(std::size_t from) noexcept {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kWindow + from));
}

// Bytes [begin, end) of the aligned block, the others zero; 0 <= begin < end <= 32.
// The dwords it reads may hold bytes outside [begin, end), never outside the
// aligned block (so never another page): AddressSanitizer would report those
// bytes when they lie outside the buffer, hence no_sanitize.
__attribute__((no_sanitize("address"))) inline __m256i load_part(const std::uint8_t* block, std::size_t begin,
                                                                  std::size_t end) noexcept {
  const __m256i bytes = _mm256_and_si256(window(32 - begin), window(64 - end));
  // The dwords with a wanted byte: all-ones where `bytes` is not zero.
  const __m256i some = _mm256_xor_si256(_mm256_cmpeq_epi32(bytes, _mm256_setzero_si256()), _mm256_set1_epi32(-1));
  return _mm256_and_si256(_mm256_maskload_epi32(reinterpret_cast<const int*>(block), some), bytes);
}

inline __m256i xor_vector(std::uint8_t* buf, const std::uint8_t* ks) noexcept {
  const __m256i x = _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(buf)),
                                     _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ks)));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(buf), x);
  return x;
}

}  // namespace

std::uint64_t xor_sum_avx2(std::uint8_t* buf, const std::uint8_t* ks, std::size_t n) noexcept {
  Lanes a;
  Lanes b;
  std::size_t i = 0;
  for (; n - i >= 64; i += 64) {
    a.add(xor_vector(buf + i, ks + i));
    b.add(xor_vector(buf + i + 32, ks + i + 32));
  }
  if (n - i >= 32) {
    a.add(xor_vector(buf + i, ks + i));
    i += 32;
  }
  a.merge(b);
  return a.total() + xor_sum_portable(buf + i, ks + i, n - i);  // i is even: the words line up
}

std::uint64_t even_address_sum_avx2(const std::uint8_t* p, std::size_t n) noexcept {
  if (n == 0) return 0;
  const auto* block = reinterpret_cast<const std::uint8_t*>(reinterpret_cast<std::uintptr_t>(p) & ~std::uintptr_t{31});
  const std::size_t first = reinterpret_cast<std::uintptr_t>(p) & 31;
  std::size_t end = first + n;  // bytes from `block`
  Lanes a;
  Lanes b;
  if (end <= 32) {
    a.add(load_part(block, first, end));
    return a.total();
  }
  a.add(load_part(block, first, 32));
  block += 32;
  end -= 32;
  for (; end >= 128; end -= 128, block += 128) {
    a.add(_mm256_load_si256(reinterpret_cast<const __m256i*>(block)));
    b.add(_mm256_load_si256(reinterpret_cast<const __m256i*>(block + 32)));
    a.add(_mm256_load_si256(reinterpret_cast<const __m256i*>(block + 64)));
    b.add(_mm256_load_si256(reinterpret_cast<const __m256i*>(block + 96)));
  }
  for (; end >= 32; end -= 32, block += 32) a.add(_mm256_load_si256(reinterpret_cast<const __m256i*>(block)));
  if (end) b.add(load_part(block, 0, end));
  a.merge(b);
  return a.total();
}

}  // namespace pktparse::detail
