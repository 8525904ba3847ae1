// Pattern: a key-bit pattern expanded once per key into a buffer the kernels
// can read whole vectors from at any position, and wiped when done.
#include <cstring>

#include "fastxor/fastxor.h"
#include "secmem/wipe.h"

namespace fastxor {

Pattern::~Pattern() { wipe(); }

void Pattern::wipe() noexcept {
  secmem::secure_wipe(buf_, sizeof buf_);
  length_ = 0;
  period_ = 0;
}

// p may point into buf_ itself, hence memmove and no wipe before the copy.
bool Pattern::assign(std::span<const std::uint8_t> p) noexcept {
  if (p.empty() || p.size() > kMaxPatternLen) {
    wipe();
    return false;
  }
  std::memmove(buf_, p.data(), p.size());
  return expand(p.size());
}

bool Pattern::assign_inverting(std::span<const std::uint8_t> p) noexcept {
  if (p.empty() || p.size() > kMaxInvertingPatternLen) {
    wipe();
    return false;
  }
  const std::size_t len = p.size();
  std::memmove(buf_, p.data(), len);
  for (std::size_t i = 0; i < len; ++i) buf_[len + i] = static_cast<std::uint8_t>(~buf_[i]);
  return expand(2 * len);
}

// buf_[0, len) holds one period of the keystream; repeat it up to
// period + kOverhang and wipe whatever an earlier key left beyond that.
bool Pattern::expand(std::size_t len) noexcept {
  const std::size_t period = len < kMinPeriod ? len * ((kMinPeriod + len - 1) / len) : len;
  const std::size_t end = period + kOverhang;
  for (std::size_t j = len; j < end; ++j) buf_[j] = buf_[j - len];
  secmem::secure_wipe(buf_ + end, sizeof buf_ - end);
  length_ = static_cast<std::uint32_t>(len);
  period_ = static_cast<std::uint32_t>(period);
  return true;
}

}  // namespace fastxor
