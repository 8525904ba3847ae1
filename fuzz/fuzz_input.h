// A libFuzzer input read as a sequence of choices (integers in a range,
// flags, runs of bytes), for targets whose input is parameters rather than
// one blob. Builds without libFuzzer compile it too, so it is ours rather
// than clang's FuzzedDataProvider. Past the end of the input every choice is
// the low end of its range and every run of bytes is empty.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

class FuzzInput {
 public:
  FuzzInput(const std::uint8_t* data, std::size_t size) noexcept : rest_(data, size) {}

  // An integer in [lo, hi], from as few bytes as the range needs.
  std::uint64_t range(std::uint64_t lo, std::uint64_t hi) noexcept {
    const std::uint64_t span = hi - lo;
    std::uint64_t v = 0;
    for (std::uint64_t need = span; need != 0 && !rest_.empty(); need >>= 8) {
      v = (v << 8) | rest_.front();
      rest_ = rest_.subspan(1);
    }
    return span == UINT64_MAX ? v : lo + v % (span + 1);
  }
  bool flag() noexcept { return range(0, 1) == 1; }
  // Up to n bytes (fewer where the input ends).
  std::span<const std::uint8_t> bytes(std::size_t n) noexcept {
    const auto b = rest_.first(n < rest_.size() ? n : rest_.size());
    rest_ = rest_.subspan(b.size());
    return b;
  }
  // Whatever the choices left.
  std::span<const std::uint8_t> rest() noexcept { return bytes(rest_.size()); }

 private:
  std::span<const std::uint8_t> rest_;
};
