// The scrambling suites of wire-format.md section 3: ids, names, key lengths.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace pktparse {

enum class Suite : std::uint8_t {
  xor_pattern = 0x01,
  xor_inv = 0x02,
  aes128_ctr = 0x03,
  aes256_ctr = 0x04,
  aes128_gcm = 0x05,
};

inline constexpr std::size_t kGcmTagLen = 16;

bool suite_valid(std::uint8_t id) noexcept;
// Wire names: "xor", "xor-inv", "aes128-ctr", "aes256-ctr", "aes128-gcm".
std::string_view suite_name(Suite s) noexcept;
std::optional<Suite> suite_from_name(std::string_view name) noexcept;
// Whether a key of `len` bytes is allowed for the suite (xor 1..1024,
// xor-inv 1..512, AES 16 or 32).
bool key_length_ok(Suite s, std::size_t len) noexcept;
inline bool suite_is_gcm(Suite s) noexcept { return s == Suite::aes128_gcm; }
inline bool suite_is_xor(Suite s) noexcept { return s == Suite::xor_pattern || s == Suite::xor_inv; }
// Bytes the suite appends after the payload region (the GCM tag).
inline std::size_t suite_trailer_len(Suite s) noexcept { return suite_is_gcm(s) ? kGcmTagLen : 0; }

}  // namespace pktparse
