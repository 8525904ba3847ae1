// Internal: where a kernel reads its keystream from. One kernel body per ISA
// serves both entry points: PatternSource walks the expanded pattern and wraps
// at the period, StreamSource walks a keystream buffer. Internal linkage: see
// blocks.h.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fastxor/fastxor.h"

namespace fastxor::impl {
namespace {

class PatternSource {
 public:
  static constexpr bool kPattern = true;

  PatternSource(const Pattern& p, std::size_t pos) noexcept : k_(p.bytes()), period_(p.period()), pos_(pos) {}
  const std::uint8_t* at() const noexcept { return k_ + pos_; }
  void advance(std::size_t n) noexcept { pos_ += n; }
  // Brings pos back below the period. Valid while pos < 2 * period, so
  // callers wrap at least every Pattern::kMinPeriod bytes; reads between
  // wraps stay in the overhang as long as pos < period + kOverhang.
  void wrap() noexcept {
    if (pos_ >= period_) pos_ -= period_;
  }
  std::size_t pos() const noexcept { return pos_; }
  std::size_t period() const noexcept { return period_; }

 private:
  const std::uint8_t* k_;
  std::size_t period_;
  std::size_t pos_;
};

class StreamSource {
 public:
  static constexpr bool kPattern = false;

  explicit StreamSource(const std::uint8_t* ks) noexcept : ks_(ks) {}
  const std::uint8_t* at() const noexcept { return ks_; }
  void advance(std::size_t n) noexcept { ks_ += n; }
  void wrap() noexcept {}

 private:
  const std::uint8_t* ks_;
};

}  // namespace
}  // namespace fastxor::impl
