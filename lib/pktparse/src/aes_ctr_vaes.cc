// AES-CTR with 256-bit VAES (this file alone is compiled with -mavx2 -maes
// -mvaes): two blocks per instruction, sixteen blocks in flight, over round
// keys another library expanded. For CPUs with VAES but no AVX-512, where
// intel-ipsec-mb 1.3 runs CTR one block per instruction (Zen3: about twice
// the time). The counter is the block's last 4 bytes, big-endian, and never
// carries into the 12 before it (wire-format §3.1: j counts the blocks of one
// datagram, under 2^12).
#include "aes_ctr_vaes.h"

#include <immintrin.h>

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

template <int Rounds>
struct Keys {
  __m256i k[Rounds + 1];
  explicit Keys(const std::uint8_t* rk) noexcept {
    for (int r = 0; r <= Rounds; ++r)
      k[r] = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rk + 16 * r)));
  }
  // Keystream for the counters in x (little-endian counter dwords).
  __m256i encrypt(__m256i x) const noexcept {
    __m256i s = _mm256_xor_si256(swap_counter(x), k[0]);
    for (int r = 1; r < Rounds; ++r) s = _mm256_aesenc_epi128(s, k[r]);
    return _mm256_aesenclast_epi128(s, k[Rounds]);
  }
};

inline __m256i load(const std::uint8_t* p) noexcept { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
inline void store(std::uint8_t* p, __m256i v) noexcept { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v); }

template <int Rounds>
void ctr(const std::uint8_t* rk, const std::uint8_t counter0[16], const std::uint8_t* in, std::uint8_t* out,
         std::size_t n) noexcept {
  const Keys<Rounds> keys(rk);
  const __m128i c0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(counter0));
  // Lanes: blocks j and j + 1.
  __m256i x = _mm256_add_epi32(swap_counter(_mm256_broadcastsi128_si256(c0)), _mm256_setr_epi32(0, 0, 0, 0, 0, 0, 0, 1));
  const __m256i two = _mm256_setr_epi32(0, 0, 0, 2, 0, 0, 0, 2);
  for (; n >= 256; n -= 256, in += 256, out += 256) {
    __m256i s[8];
    for (int i = 0; i < 8; ++i) {
      s[i] = _mm256_xor_si256(swap_counter(x), keys.k[0]);
      x = _mm256_add_epi32(x, two);
    }
    for (int r = 1; r < Rounds; ++r)
      for (int i = 0; i < 8; ++i) s[i] = _mm256_aesenc_epi128(s[i], keys.k[r]);
    for (int i = 0; i < 8; ++i)
      store(out + 32 * i, _mm256_xor_si256(load(in + 32 * i), _mm256_aesenclast_epi128(s[i], keys.k[Rounds])));
  }
  for (; n >= 32; n -= 32, in += 32, out += 32) {
    store(out, _mm256_xor_si256(load(in), keys.encrypt(x)));
    x = _mm256_add_epi32(x, two);
  }
  if (n) {
    alignas(32) std::uint8_t ks[32];
    store(ks, keys.encrypt(x));
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(in[i] ^ ks[i]);
    secmem::secure_wipe(ks, sizeof ks);
  }
}

}  // namespace

void aes_ctr_vaes(const std::uint8_t* round_keys, int rounds, const std::uint8_t counter0[16], const std::uint8_t* in,
                  std::uint8_t* out, std::size_t n) noexcept {
  if (rounds == 10) {
    ctr<10>(round_keys, counter0, in, out, n);
  } else {
    ctr<14>(round_keys, counter0, in, out, n);
  }
  _mm256_zeroall();  // round keys and keystream out of the vector registers
}

}  // namespace pktparse::detail
