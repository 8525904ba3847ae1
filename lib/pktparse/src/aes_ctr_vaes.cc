// AES-CTR with 256-bit VAES (this file and aes_gcm_vaes.cc alone are compiled
// with -mavx2 -maes -mvaes -mpclmul -mvpclmulqdq): two blocks per
// instruction, sixteen blocks in flight, over round keys another library
// expanded. For CPUs with VAES but no AVX-512, where intel-ipsec-mb 1.3
// runs CTR one block per instruction (aes.cc has the figures). The counter
// is the block's last 4 bytes, big-endian, and never carries into the 12
// before it (wire-format §3.1: j counts the blocks of one datagram, under
// 2^12).
#include "aes_ctr_vaes.h"

#include "ctr_vaes_core.h"

namespace pktparse::detail {

void aes_ctr_vaes(const std::uint8_t* round_keys, int rounds, const std::uint8_t counter0[16], const std::uint8_t* in,
                  std::uint8_t* out, std::size_t n) noexcept {
  if (rounds == 10) {
    CtrVaes<10>(round_keys, counter0).apply(in, out, n);
  } else {
    CtrVaes<14>(round_keys, counter0).apply(in, out, n);
  }
  _mm256_zeroall();  // round keys and keystream out of the vector registers
}

}  // namespace pktparse::detail
