// Runtime dispatch: the table of implementations and the public symbols. Each
// public symbol calls through a pointer that starts at a resolver; the first
// call picks the implementation once, stores the kernels and forwards.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "cpu_features.h"
#include "fastxor/impl.h"
#include "kernels.h"

namespace fastxor {
namespace impl {
namespace {

bool always_supported() noexcept { return true; }

constexpr Impl kImpls[] = {
    {"scalar", always_supported, xor_pattern_scalar, xor_keystream_scalar},
    {"avx2", cpu_supports_avx2, xor_pattern_avx2, xor_keystream_avx2},
    {"avx512", cpu_supports_avx512bw, xor_pattern_avx512, xor_keystream_avx512},
};

const Impl& best_supported() noexcept {
  for (std::size_t i = std::size(kImpls); i-- > 1;) {
    if (kImpls[i].supported()) return kImpls[i];
  }
  return kImpls[0];
}

}  // namespace

std::span<const Impl> all() noexcept { return kImpls; }

const Impl& select(const char* forced) noexcept {
  if (forced == nullptr || *forced == '\0') return best_supported();
  for (const Impl& i : kImpls) {
    if (std::strcmp(i.name, forced) != 0) continue;
    if (i.supported()) return i;
    const Impl& best = best_supported();
    std::fprintf(stderr, "fastxor: FASTXOR_IMPL=%s is not supported by this CPU; using %s\n", forced, best.name);
    return best;
  }
  const Impl& best = best_supported();
  std::fprintf(stderr, "fastxor: FASTXOR_IMPL=%.32s is unknown (scalar|avx2|avx512); using %s\n", forced, best.name);
  return best;
}

}  // namespace impl

namespace {

// Thread-safe and once only, so the warning, if any, is printed once.
const impl::Impl& chosen() noexcept {
  static const impl::Impl& c = impl::select(std::getenv("FASTXOR_IMPL"));
  return c;
}

std::size_t resolve_xor_pattern(std::uint8_t* buf, std::size_t n, const Pattern& p, std::size_t pos) noexcept;
void resolve_xor_keystream(std::uint8_t* buf, const std::uint8_t* ks, std::size_t n) noexcept;

constinit std::atomic<impl::XorPatternFn> g_xor_pattern{resolve_xor_pattern};
constinit std::atomic<impl::XorKeystreamFn> g_xor_keystream{resolve_xor_keystream};

void install() noexcept {
  const impl::Impl& c = chosen();
  g_xor_pattern.store(c.xor_pattern, std::memory_order_relaxed);
  g_xor_keystream.store(c.xor_keystream, std::memory_order_relaxed);
}

std::size_t resolve_xor_pattern(std::uint8_t* buf, std::size_t n, const Pattern& p, std::size_t pos) noexcept {
  install();
  return chosen().xor_pattern(buf, n, p, pos);
}

void resolve_xor_keystream(std::uint8_t* buf, const std::uint8_t* ks, std::size_t n) noexcept {
  install();
  chosen().xor_keystream(buf, ks, n);
}

}  // namespace

std::size_t xor_pattern(std::uint8_t* buf, std::size_t n, const Pattern& p, std::size_t pos) noexcept {
  const std::size_t period = p.period();
  if (pos >= period) pos %= period;
  return g_xor_pattern.load(std::memory_order_relaxed)(buf, n, p, pos);
}

void xor_keystream(std::uint8_t* buf, const std::uint8_t* ks, std::size_t n) noexcept {
  g_xor_keystream.load(std::memory_order_relaxed)(buf, ks, n);
}

const char* impl_name() noexcept { return chosen().name; }

}  // namespace fastxor
