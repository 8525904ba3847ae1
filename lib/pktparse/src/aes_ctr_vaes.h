// Internal: keycast's own AES-CTR kernel for CPUs with VAES but no AVX-512
// (aes_ctr_vaes.cc), run over intel-ipsec-mb's expanded encryption keys.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pktparse::detail {

// out[0, n) = in[0, n) ^ AES-CTR keystream from counter0 (block j's counter
// is the last 4 bytes of counter0 + j, big-endian). round_keys: rounds + 1
// encryption round keys (rounds 10 or 14). in and out may be equal. Only
// where the CPU and OS support AVX2 and VAES.
void aes_ctr_vaes(const std::uint8_t* round_keys, int rounds, const std::uint8_t counter0[16], const std::uint8_t* in,
                  std::uint8_t* out, std::size_t n) noexcept;

}  // namespace pktparse::detail
