// Big-endian loads and stores at any alignment.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace pktparse {

namespace detail {
inline std::uint16_t bswap(std::uint16_t v) noexcept { return __builtin_bswap16(v); }
inline std::uint32_t bswap(std::uint32_t v) noexcept { return __builtin_bswap32(v); }
inline std::uint64_t bswap(std::uint64_t v) noexcept { return __builtin_bswap64(v); }
}  // namespace detail

template <typename T>
inline T load_be(const std::uint8_t* p) noexcept {
  T v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::little && sizeof(T) > 1) v = detail::bswap(v);
  return v;
}

template <typename T>
inline void store_be(std::uint8_t* p, T v) noexcept {
  if constexpr (std::endian::native == std::endian::little && sizeof(T) > 1) v = detail::bswap(v);
  std::memcpy(p, &v, sizeof v);
}

inline std::uint16_t load_be16(const std::uint8_t* p) noexcept { return load_be<std::uint16_t>(p); }
inline std::uint32_t load_be32(const std::uint8_t* p) noexcept { return load_be<std::uint32_t>(p); }
inline std::uint64_t load_be64(const std::uint8_t* p) noexcept { return load_be<std::uint64_t>(p); }
inline void store_be16(std::uint8_t* p, std::uint16_t v) noexcept { store_be(p, v); }
inline void store_be32(std::uint8_t* p, std::uint32_t v) noexcept { store_be(p, v); }
inline void store_be64(std::uint8_t* p, std::uint64_t v) noexcept { store_be(p, v); }

}  // namespace pktparse
