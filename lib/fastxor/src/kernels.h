// Internal: the per-ISA kernels. Each xor_pattern_* expects pos < p.period()
// and returns the position after the last byte, also below p.period().
#pragma once

#include <cstddef>
#include <cstdint>

#include "fastxor/fastxor.h"

namespace fastxor::impl {

std::size_t xor_pattern_scalar(std::uint8_t* buf, std::size_t n, const Pattern& p, std::size_t pos) noexcept;
void xor_keystream_scalar(std::uint8_t* buf, const std::uint8_t* ks, std::size_t n) noexcept;

std::size_t xor_pattern_avx2(std::uint8_t* buf, std::size_t n, const Pattern& p, std::size_t pos) noexcept;
void xor_keystream_avx2(std::uint8_t* buf, const std::uint8_t* ks, std::size_t n) noexcept;

std::size_t xor_pattern_avx512(std::uint8_t* buf, std::size_t n, const Pattern& p, std::size_t pos) noexcept;
void xor_keystream_avx512(std::uint8_t* buf, const std::uint8_t* ks, std::size_t n) noexcept;

}  // namespace fastxor::impl
