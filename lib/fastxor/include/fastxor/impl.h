// The individual fastxor implementations, for tests and benchmarks that
// compare them. Production code calls the dispatched symbols in fastxor.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "fastxor/fastxor.h"

namespace fastxor::impl {

using XorPatternFn = std::size_t (*)(std::uint8_t* buf, std::size_t n, const Pattern& p, std::size_t pos) noexcept;
using XorKeystreamFn = void (*)(std::uint8_t* buf, const std::uint8_t* ks, std::size_t n) noexcept;

struct Impl {
  const char* name;
  bool (*supported)() noexcept;  // CPU and OS support it (CPUID + XGETBV)
  XorPatternFn xor_pattern;      // pos already reduced below p.period()
  XorKeystreamFn xor_keystream;
};

// Every implementation built in, scalar first, best last.
std::span<const Impl> all() noexcept;

// The implementation the dispatched symbols use, given the value of
// FASTXOR_IMPL (null or empty: none): the named one if the CPU supports it,
// else the best supported one, after one warning line on stderr.
const Impl& select(const char* forced) noexcept;

}  // namespace fastxor::impl
