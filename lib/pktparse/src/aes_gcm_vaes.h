// Internal: AES-128-GCM with 256-bit VAES and VPCLMULQDQ (aes_gcm_vaes.cc), for
// CPUs with both but no AVX-512, beside aes_ctr_vaes().
#pragma once

#include <cstddef>
#include <cstdint>

namespace pktparse::detail {

// H^16..H^1 of one key and their Karatsuba halves, as gcm_vaes_seal() and gcm_vaes_open() read them.
inline constexpr std::size_t kGhashPowersBytes = 512;

// Powers of H = E(K, 0^128) from the key's 11 AES-128 round keys.
void ghash_vaes_prepare(const std::uint8_t* round_keys, std::uint8_t powers[kGhashPowersBytes]) noexcept;

// AES-128-GCM (SP 800-38D, 96-bit IV) of the body p[0, n), in place, with
// the AAD; round_keys: the key's 11 round keys. Seal writes the tag; open
// writes the tag the ciphertext should carry (the caller compares) and
// decrypts.
void gcm_vaes_seal(const std::uint8_t* round_keys, const std::uint8_t powers[kGhashPowersBytes],
                   const std::uint8_t iv[12], const std::uint8_t* aad, std::size_t aad_len, std::uint8_t* p,
                   std::size_t n, std::uint8_t tag[16]) noexcept;
void gcm_vaes_open(const std::uint8_t* round_keys, const std::uint8_t powers[kGhashPowersBytes],
                   const std::uint8_t iv[12], const std::uint8_t* aad, std::size_t aad_len, std::uint8_t* p,
                   std::size_t n, std::uint8_t tag[16]) noexcept;

}  // namespace pktparse::detail
