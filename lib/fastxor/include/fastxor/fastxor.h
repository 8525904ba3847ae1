// fastxor: XOR a buffer in place with a repeating key-bit pattern or with a
// keystream buffer. One public symbol per kernel; the implementation (scalar,
// AVX2, AVX-512BW) is chosen once by CPUID+XGETBV, or forced with the
// environment variable FASTXOR_IMPL=scalar|avx2|avx512.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace fastxor {

inline constexpr std::size_t kMaxPatternLen = 1024;
inline constexpr std::size_t kMaxInvertingPatternLen = kMaxPatternLen / 2;

// A pattern prepared once per key: P expanded to a period that is a multiple
// of L and at least kMinPeriod bytes, plus an overhang so kernels can load
// whole vectors at any position. Wiped on destruction and on reassignment.
class Pattern {
 public:
  static constexpr std::size_t kMinPeriod = 256;
  static constexpr std::size_t kOverhang = 256;
  static constexpr std::size_t kMaxPeriod = kMaxPatternLen;  // L*ceil(256/L) <= 1024 for L <= 1024

  Pattern() = default;
  Pattern(const Pattern&) = default;
  Pattern& operator=(const Pattern&) = default;
  ~Pattern();

  // Keystream K[i] = P[i mod L]. False (and the pattern left empty) unless
  // 1 <= L <= kMaxPatternLen.
  bool assign(std::span<const std::uint8_t> p) noexcept;
  // Keystream of the xor-inv suite: P and its bitwise inverse alternating per
  // L bytes, i.e. the pattern P|~P. Needs 1 <= L <= kMaxInvertingPatternLen.
  bool assign_inverting(std::span<const std::uint8_t> p) noexcept;
  void wipe() noexcept;

  bool empty() const noexcept { return period_ == 0; }
  // Length of the keystream's true period (L, or 2L for an inverting pattern).
  std::size_t length() const noexcept { return length_; }
  // Period of the expanded buffer: positions run in [0, period()).
  std::size_t period() const noexcept { return period_; }
  // Position of keystream index i, for xor_pattern().
  std::size_t position(std::uint64_t stream_index) const noexcept {
    return static_cast<std::size_t>(stream_index % period_);
  }
  // period() + kOverhang bytes: bytes[j] == K[j] for every j in that range.
  const std::uint8_t* bytes() const noexcept { return buf_; }

 private:
  bool expand(std::size_t len) noexcept;

  alignas(64) std::uint8_t buf_[kMaxPeriod + kOverhang] = {};
  std::uint32_t length_ = 0;
  std::uint32_t period_ = 0;
};

// buf[k] ^= K[pos + k] for k in [0, n), where pos is a position of p
// (0 <= pos < p.period(); larger values are reduced). Returns the position
// after the last byte, to continue the keystream in the next piece of the
// same datagram. p must not be empty.
std::size_t xor_pattern(std::uint8_t* buf, std::size_t n, const Pattern& p, std::size_t pos) noexcept;

// buf[k] ^= ks[k] for k in [0, n). The ranges may be equal but must not
// otherwise overlap.
void xor_keystream(std::uint8_t* buf, const std::uint8_t* ks, std::size_t n) noexcept;

// Name of the implementation in use: "scalar", "avx2" or "avx512".
const char* impl_name() noexcept;

// Whether the CPU and the OS (CPUID + XGETBV) support AVX-512 F and BW, or
// AVX2: the tests fastxor's dispatch makes, for other kernels that choose the
// same way.
bool cpu_has_avx512bw() noexcept;
bool cpu_has_avx2() noexcept;

}  // namespace fastxor
