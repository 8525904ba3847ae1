// CPUID + XGETBV feature detection. Compiled without ISA flags: it runs
// before anyone knows which instructions are safe.
#include "cpu_features.h"
#include "fastxor/fastxor.h"

#include <cpuid.h>

#include <cstdint>

namespace fastxor::impl {
namespace {

struct Features {
  bool avx2 = false;
  bool avx512bw = false;
};

constexpr bool bit(unsigned reg, unsigned n) { return ((reg >> n) & 1U) != 0; }

std::uint64_t xgetbv0() noexcept {
  std::uint32_t lo = 0;
  std::uint32_t hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0U));
  return (std::uint64_t{hi} << 32) | lo;
}

Features detect() noexcept {
  Features f;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid(1, &a, &b, &c, &d) == 0) return f;
  const bool osxsave = bit(c, 27);
  const bool avx = bit(c, 28);
  if (!osxsave || !avx) return f;  // XGETBV itself needs OSXSAVE

  const std::uint64_t xcr0 = xgetbv0();
  constexpr std::uint64_t kYmmState = (1U << 1) | (1U << 2);                        // SSE, AVX
  constexpr std::uint64_t kZmmState = kYmmState | (1U << 5) | (1U << 6) | (1U << 7);  // + opmask, ZMM_Hi256, Hi16_ZMM
  if ((xcr0 & kYmmState) != kYmmState) return f;

  if (__get_cpuid_count(7, 0, &a, &b, &c, &d) == 0) return f;
  f.avx2 = bit(b, 5);
  f.avx512bw = bit(b, 16) && bit(b, 30) && (xcr0 & kZmmState) == kZmmState;
  return f;
}

const Features& features() noexcept {
  static const Features f = detect();
  return f;
}

}  // namespace

bool cpu_supports_avx2() noexcept { return features().avx2; }
bool cpu_supports_avx512bw() noexcept { return features().avx512bw; }

}  // namespace fastxor::impl

bool fastxor::cpu_has_avx512bw() noexcept { return impl::cpu_supports_avx512bw(); }
bool fastxor::cpu_has_avx2() noexcept { return impl::cpu_supports_avx2(); }
