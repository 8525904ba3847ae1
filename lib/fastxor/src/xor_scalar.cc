// Portable kernels: 8-byte words, then single bytes. The reference the SIMD
// kernels are tested against, and the fallback on CPUs without AVX2.
#include <cstring>

#include "kernels.h"

namespace fastxor::impl {
namespace {

inline void xor8(std::uint8_t* dst, const std::uint8_t* src) noexcept {
  std::uint64_t a;
  std::uint64_t b;
  std::memcpy(&a, dst, 8);
  std::memcpy(&b, src, 8);
  a ^= b;
  std::memcpy(dst, &a, 8);
}

}  // namespace

// Reads stay below period + 8, inside the overhang.
std::size_t xor_pattern_scalar(std::uint8_t* buf, std::size_t n, const Pattern& p, std::size_t pos) noexcept {
  const std::uint8_t* k = p.bytes();
  const std::size_t period = p.period();
  for (; n >= 8; n -= 8, buf += 8) {
    xor8(buf, k + pos);
    pos += 8;
    if (pos >= period) pos -= period;
  }
  for (std::size_t i = 0; i < n; ++i) buf[i] ^= k[pos + i];
  pos += n;
  if (pos >= period) pos -= period;
  return pos;
}

void xor_keystream_scalar(std::uint8_t* buf, const std::uint8_t* ks, std::size_t n) noexcept {
  for (; n >= 8; n -= 8, buf += 8, ks += 8) xor8(buf, ks);
  for (std::size_t i = 0; i < n; ++i) buf[i] ^= ks[i];
}

}  // namespace fastxor::impl
