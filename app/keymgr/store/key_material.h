// Key material in memory: a fixed buffer wiped when it goes away. Compare with
// ==, which is constant-time; never print it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace keymgr::store {

// The protocol's limit (keymgr-protocol.md key_record, kmproto).
inline constexpr std::size_t kMaxKeyLength = 1024;

struct KeyMaterial {
  std::array<std::uint8_t, kMaxKeyLength> bytes{};
  std::uint16_t len = 0;

  KeyMaterial() = default;
  KeyMaterial(const KeyMaterial&) = default;
  KeyMaterial& operator=(const KeyMaterial&) = default;
  ~KeyMaterial();

  // False (and empty) if src is longer than kMaxKeyLength.
  bool assign(std::span<const std::uint8_t> src) noexcept;
  void wipe() noexcept;
  std::span<const std::uint8_t> view() const noexcept { return {bytes.data(), len}; }

  friend bool operator==(const KeyMaterial& a, const KeyMaterial& b) noexcept;
};

}  // namespace keymgr::store
