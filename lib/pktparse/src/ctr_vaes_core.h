// Internal: the AES-CTR core of the VAES kernels, for aes_ctr_vaes.cc and
// ghash_vaes.cc (which interleaves it with GHASH). Include only from files
// compiled with -mavx2 -maes -mvaes; internal linkage on purpose (see
// lib/fastxor/src/blocks.h).
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "secmem/wipe.h"

namespace pktparse::detail {
namespace {

// Counter blocks are kept with their last dword little-endian, so that one
// vpaddd counts; this swaps that dword to the wire's order and back.
inline __m256i swap_counter(__m256i x) noexcept {
  const __m256i m = _mm256_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 15, 14, 13, 12,  //
                                     0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 15, 14, 13, 12);
  return _mm256_shuffle_epi8(x, m);
}

inline __m256i load32(const std::uint8_t* p) noexcept { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
inline void store32(std::uint8_t* p, __m256i v) noexcept { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }

// Key material read through a barrier, at each use: the compiler can neither
// keep it in registers across a loop nor spill it to the stack (where no wipe
// reaches), so it stays in the caller's secret memory.
inline __m256i load_secret(const std::uint8_t* p) noexcept {
  __m256i v = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  asm volatile("" : "+x"(v));
  return v;
}

// The keystream from counter block counter0 on (its last 4 bytes count
// blocks, big-endian, and never carry into the 12 before them), two blocks
// per register, under the round keys at round_keys (Rounds + 1 of them).
template <int Rounds>
class CtrVaes {
 public:
  CtrVaes(const std::uint8_t* round_keys, const std::uint8_t counter0[16]) noexcept : rk_(round_keys) {
    restart(counter0);
  }

  // The keystream from another counter block on, under the same key.
  void restart(const std::uint8_t counter0[16]) noexcept {
    const __m128i c0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(counter0));
    x_ = _mm256_add_epi32(swap_counter(_mm256_broadcastsi128_si256(c0)), _mm256_setr_epi32(0, 0, 0, 0, 0, 0, 0, 1));
  }

  // out[0, 256) = in[0, 256) ^ the next 16 blocks of keystream: sixteen
  // blocks in flight.
  void apply256(const std::uint8_t* in, std::uint8_t* out) noexcept {
    __m256i s[8];
    const __m256i k0 = key(0);
    for (int i = 0; i < 8; ++i) s[i] = _mm256_xor_si256(swap_counter(next()), k0);
    for (int r = 1; r < Rounds; ++r) {
      const __m256i k = key(r);
      for (int i = 0; i < 8; ++i) s[i] = _mm256_aesenc_epi128(s[i], k);
    }
    const __m256i last = key(Rounds);
    for (int i = 0; i < 8; ++i)
      store32(out + 32 * i, _mm256_xor_si256(load32(in + 32 * i), _mm256_aesenclast_epi128(s[i], last)));
  }

  // Any n: whole 256-byte groups, pairs of blocks, then the last bytes (the
  // keystream past them is dropped: this ends the stream).
  void apply(const std::uint8_t* in, std::uint8_t* out, std::size_t n) noexcept {
    for (; n >= 256; n -= 256, in += 256, out += 256) apply256(in, out);
    for (; n >= 32; n -= 32, in += 32, out += 32) store32(out, _mm256_xor_si256(load32(in), encrypt(next())));
    if (n) {
      alignas(32) std::uint8_t ks[32];
      store32(ks, encrypt(next()));
      for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(in[i] ^ ks[i]);
      secmem::secure_wipe(ks, sizeof ks);
    }
  }

 private:
  __m256i next() noexcept {
    const __m256i x = x_;
    x_ = _mm256_add_epi32(x_, _mm256_setr_epi32(0, 0, 0, 2, 0, 0, 0, 2));
    return x;
  }
  __m256i key(int r) const noexcept { return load_secret(rk_ + 16 * r); }
  __m256i encrypt(__m256i x) const noexcept {
    __m256i s = _mm256_xor_si256(swap_counter(x), key(0));
    for (int r = 1; r < Rounds; ++r) s = _mm256_aesenc_epi128(s, key(r));
    return _mm256_aesenclast_epi128(s, key(Rounds));
  }

  const std::uint8_t* rk_;
  __m256i x_;
};

}  // namespace
}  // namespace pktparse::detail
