// AES-256-GCM wrapping of key material under the KEK, as stored in keys.wrapped.
// Blob = nonce (12, random) | ciphertext (key_length) | tag (16).
// AAD = channel_id (u32 BE) | key_id (u32 BE) | suite (u8): a blob moved to
// another key's row fails to unwrap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "store/kek.h"
#include "store/key_material.h"
#include "store/result.h"

namespace keymgr::store {

inline constexpr std::size_t kWrapNonceSize = 12;
inline constexpr std::size_t kWrapTagSize = 16;
inline constexpr std::size_t kWrapOverhead = kWrapNonceSize + kWrapTagSize;

struct KeyLabel {
  std::uint32_t channel_id = 0;
  std::uint32_t key_id = 0;
  std::uint8_t suite = 0;
};

Result<std::vector<std::uint8_t>> wrap_key(const Kek& kek, const KeyLabel& label,
                                           std::span<const std::uint8_t> material);

// StoreError::corrupt if the blob is malformed, tampered with, belongs to
// another label, or was wrapped under another KEK. Never returns garbage.
Result<KeyMaterial> unwrap_key(const Kek& kek, const KeyLabel& label,
                               std::span<const std::uint8_t> blob);

}  // namespace keymgr::store
