// AES-128-GCM with 256-bit VAES and VPCLMULQDQ (this file and aes_ctr_vaes.cc
// alone are compiled with -mavx2 -maes -mvaes -mpclmul -mvpclmulqdq): the
// counter mode of ctr_vaes_core.h, GHASH with up to sixteen blocks per
// reduction, two per instruction, Karatsuba. Blocks are byte-reflected so that
// carry-less products of the reflected values, shifted left by one, are the
// field's products (Gueron and Kounavis, "Intel Carry-Less Multiplication
// Instruction and its Usage for Computing the GCM Mode", 2010, algorithms
// 1, 2 and 4).
#include "aes_gcm_vaes.h"

#include <immintrin.h>

#include <cstring>

#include "ctr_vaes_core.h"
#include "secmem/wipe.h"

namespace pktparse::detail {
namespace {

inline __m128i reflect(__m128i x) noexcept {
  return _mm_shuffle_epi8(x, _mm_setr_epi8(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0));
}
inline __m256i reflect(__m256i x) noexcept {
  const __m256i m = _mm256_setr_epi8(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0,  //
                                     15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  return _mm256_shuffle_epi8(x, m);
}

// The 256-bit carry-less product lo ^ (mid << 64) ^ (hi << 128), shifted left
// by one and reduced modulo x^128 + x^7 + x^2 + x + 1 (reflected).
inline __m128i reduce(__m128i lo, __m128i mid, __m128i hi) noexcept {
  __m128i t3 = _mm_xor_si128(lo, _mm_slli_si128(mid, 8));
  __m128i t6 = _mm_xor_si128(hi, _mm_srli_si128(mid, 8));
  // Shift the 256 bits t6:t3 left by one.
  __m128i t7 = _mm_srli_epi32(t3, 31);
  __m128i t8 = _mm_srli_epi32(t6, 31);
  t3 = _mm_slli_epi32(t3, 1);
  t6 = _mm_slli_epi32(t6, 1);
  const __m128i t9 = _mm_srli_si128(t7, 12);
  t8 = _mm_slli_si128(t8, 4);
  t7 = _mm_slli_si128(t7, 4);
  t3 = _mm_or_si128(t3, t7);
  t6 = _mm_or_si128(t6, t8);
  t6 = _mm_or_si128(t6, t9);
  // Reduce.
  t7 = _mm_xor_si128(_mm_xor_si128(_mm_slli_epi32(t3, 31), _mm_slli_epi32(t3, 30)), _mm_slli_epi32(t3, 25));
  t8 = _mm_srli_si128(t7, 4);
  t7 = _mm_slli_si128(t7, 12);
  t3 = _mm_xor_si128(t3, t7);
  __m128i t2 = _mm_xor_si128(_mm_xor_si128(_mm_srli_epi32(t3, 1), _mm_srli_epi32(t3, 2)), _mm_srli_epi32(t3, 7));
  t2 = _mm_xor_si128(t2, t8);
  t3 = _mm_xor_si128(t3, t2);
  return _mm_xor_si128(t6, t3);
}

inline __m128i gfmul(__m128i a, __m128i b) noexcept {
  const __m128i mid = _mm_xor_si128(_mm_clmulepi64_si128(a, b, 0x10), _mm_clmulepi64_si128(a, b, 0x01));
  return reduce(_mm_clmulepi64_si128(a, b, 0x00), mid, _mm_clmulepi64_si128(a, b, 0x11));
}

// Unreduced products of two blocks per register, summed, by Karatsuba: three
// carry-less multiplications per block, the middle one of (a.lo ^ a.hi) by
// (h.lo ^ h.hi), precomputed per power.
struct Wide {
  __m256i lo = _mm256_setzero_si256();
  __m256i mid = _mm256_setzero_si256();
  __m256i hi = _mm256_setzero_si256();
  void add(__m256i a, __m256i h, __m256i h_folded) noexcept {
    lo = _mm256_xor_si256(lo, _mm256_clmulepi64_epi128(a, h, 0x00));
    hi = _mm256_xor_si256(hi, _mm256_clmulepi64_epi128(a, h, 0x11));
    const __m256i a_folded = _mm256_xor_si256(a, _mm256_shuffle_epi32(a, 0x4E));
    mid = _mm256_xor_si256(mid, _mm256_clmulepi64_epi128(a_folded, h_folded, 0x00));
  }
  static __m128i fold(__m256i v) noexcept {
    return _mm_xor_si128(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  }
  __m128i reduced() const noexcept {
    const __m128i l = fold(lo);
    const __m128i h = fold(hi);
    return reduce(l, _mm_xor_si128(_mm_xor_si128(fold(mid), l), h), h);
  }
};

inline __m128i load16(const std::uint8_t* p) noexcept { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }

// Powers of H, as load_secret() reads round keys: never kept or spilled.
inline __m256i power_pair(const std::uint8_t* p) noexcept {
  __m256i v = load32(p);
  asm volatile("" : "+x"(v));
  return v;
}
inline __m128i power(const std::uint8_t* p) noexcept {
  __m128i v = load16(p);
  asm volatile("" : "+x"(v));
  return v;
}

// powers: H^16, H^15, ..., H^1, 16 bytes each, then the same powers folded
// (lo ^ hi in the low 8 bytes of each 16).
constexpr std::size_t kFolded = 256;

class Ghash {
 public:
  explicit Ghash(const std::uint8_t* powers) noexcept : powers_(powers) {}

  // Zero-padded to whole blocks.
  void update(const std::uint8_t* p, std::size_t n) noexcept { absorb_padded(p, n, nullptr); }
  // The last piece, zero-padded, then the lengths block (SP 800-38D §7.1).
  void finish(const std::uint8_t* p, std::size_t n, const std::uint8_t lengths[16]) noexcept {
    absorb_padded(p, n, lengths);
  }
  // The hash as the bytes GCM XORs with E(K, J0).
  void final(std::uint8_t out[16]) const noexcept { _mm_storeu_si128(reinterpret_cast<__m128i*>(out), reflect(y_)); }

  // y = (y ^ b[0]) H^k ^ b[1] H^(k-1) ^ ... ^ b[k-1] H, for the k (1..16)
  // blocks at p, with one reduction: two blocks and two powers per register.
  void absorb(const std::uint8_t* p, std::size_t k) noexcept {
    const std::uint8_t* h = powers_ + 16 * (16 - k);
    const std::uint8_t* hf = h + kFolded;
    Wide w;
    std::size_t j = 0;
    if (k >= 2) {
      w.add(_mm256_xor_si256(reflect(load32(p)), _mm256_zextsi128_si256(y_)), power_pair(h), power_pair(hf));
      j = 2;
    } else {
      w.add(_mm256_zextsi128_si256(_mm_xor_si128(reflect(load16(p)), y_)), _mm256_zextsi128_si256(power(h)),
            _mm256_zextsi128_si256(power(hf)));
      j = 1;
    }
    for (; j + 2 <= k; j += 2) w.add(reflect(load32(p + 16 * j)), power_pair(h + 16 * j), power_pair(hf + 16 * j));
    if (j < k) {
      w.add(_mm256_zextsi128_si256(reflect(load16(p + 16 * j))), _mm256_zextsi128_si256(power(h + 16 * j)),
            _mm256_zextsi128_si256(power(hf + 16 * j)));
    }
    y_ = w.reduced();
  }

 private:
  // Whole 256-byte groups in place; the rest zero-padded, with the block
  // `extra` (if any) after it, from a copy: one reduction, not two.
  void absorb_padded(const std::uint8_t* p, std::size_t n, const std::uint8_t* extra) noexcept {
    for (; n >= 256; n -= 256, p += 256) absorb(p, 16);
    const std::size_t blocks = (n + 15) / 16;
    const std::size_t total = blocks + (extra ? 1 : 0);
    if (n % 16 == 0 && !extra) {
      if (blocks) absorb(p, blocks);
      return;
    }
    // Only the last block's padding is zeroed: the n < 256 bytes are copied over the rest.
    alignas(32) std::uint8_t tail[256 + 16];
    if (n % 16) std::memset(tail + 16 * (blocks - 1), 0, 16);
    if (n) std::memcpy(tail, p, n);  // p may be null when n is 0
    if (extra) std::memcpy(tail + 16 * blocks, extra, 16);
    if (total > 16) {
      absorb(tail, 16);
      absorb(tail + 256, 1);
    } else {
      absorb(tail, total);
    }
  }

  const std::uint8_t* powers_;
  __m128i y_ = _mm_setzero_si128();
};

}  // namespace

void ghash_vaes_prepare(const std::uint8_t* round_keys, std::uint8_t powers[kGhashPowersBytes]) noexcept {
  static constexpr std::uint8_t kZeros[16] = {};
  alignas(16) std::uint8_t h_bytes[16];
  CtrVaes<10>(round_keys, kZeros).apply(kZeros, h_bytes, 16);  // E(K, 0^128): the counter block is 0 too
  const __m128i h = reflect(load16(h_bytes));
  __m128i power = h;
  for (int i = 1; i <= 16; ++i) {  // H^i goes to slot 16 - i
    _mm_storeu_si128(reinterpret_cast<__m128i*>(powers + 16 * (16 - i)), power);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(powers + kFolded + 16 * (16 - i)),
                     _mm_xor_si128(power, _mm_shuffle_epi32(power, 0x4E)));
    power = gfmul(power, h);
  }
  secmem::secure_wipe(h_bytes, sizeof h_bytes);
  _mm256_zeroall();
}

namespace {

// SP 800-38D §7.1/7.2 with a 96-bit IV: the body's counter blocks from
// J0 + 1 = IV | 2, the hash over the ciphertext; each 256-byte group's AES
// and another group's GHASH in one loop, for the core to run side by side.
template <bool Seal>
void gcm(const std::uint8_t* round_keys, const std::uint8_t* powers, const std::uint8_t iv[12],
         const std::uint8_t* aad, std::size_t aad_len, std::uint8_t* p, std::size_t n, std::uint8_t tag[16]) noexcept {
  Ghash g(powers);
  g.update(aad, aad_len);
  std::uint8_t block[16];
  std::memcpy(block, iv, 12);
  block[12] = block[13] = block[14] = 0;
  block[15] = 2;
  CtrVaes<10> ctr(round_keys, block);
  std::size_t done = 0;
  if constexpr (Seal) {
    if (n >= 256) {
      ctr.apply256(p, p);
      for (done = 256; n - done >= 256; done += 256) {
        ctr.apply256(p + done, p + done);
        g.absorb(p + done - 256, 16);
      }
      g.absorb(p + done - 256, 16);
    }
  } else {
    for (; n - done >= 256; done += 256) {
      g.absorb(p + done, 16);
      ctr.apply256(p + done, p + done);
    }
  }
  std::uint8_t lengths[16];
  const std::uint64_t bits_a = std::uint64_t{aad_len} * 8;
  const std::uint64_t bits_c = std::uint64_t{n} * 8;
  for (int i = 0; i < 8; ++i) {
    lengths[i] = static_cast<std::uint8_t>(bits_a >> (56 - 8 * i));
    lengths[8 + i] = static_cast<std::uint8_t>(bits_c >> (56 - 8 * i));
  }
  if constexpr (Seal) ctr.apply(p + done, p + done, n - done);
  g.finish(p + done, n - done, lengths);
  if constexpr (!Seal) ctr.apply(p + done, p + done, n - done);
  alignas(16) std::uint8_t s[16];
  g.final(s);
  block[15] = 1;  // J0
  ctr.restart(block);
  ctr.apply(s, tag, 16);
  _mm256_zeroall();  // round keys, keystream and hash state out of the vector registers
}

}  // namespace

void gcm_vaes_seal(const std::uint8_t* round_keys, const std::uint8_t powers[kGhashPowersBytes],
                   const std::uint8_t iv[12], const std::uint8_t* aad, std::size_t aad_len, std::uint8_t* p,
                   std::size_t n, std::uint8_t tag[16]) noexcept {
  gcm<true>(round_keys, powers, iv, aad, aad_len, p, n, tag);
}

void gcm_vaes_open(const std::uint8_t* round_keys, const std::uint8_t powers[kGhashPowersBytes],
                   const std::uint8_t iv[12], const std::uint8_t* aad, std::size_t aad_len, std::uint8_t* p,
                   std::size_t n, std::uint8_t tag[16]) noexcept {
  gcm<false>(round_keys, powers, iv, aad, aad_len, p, n, tag);
}

}  // namespace pktparse::detail
