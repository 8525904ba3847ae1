// KeyMaterial: wiping and constant-time comparison.
#include "store/key_material.h"

#include <openssl/crypto.h>

#include "secmem/wipe.h"

#include <algorithm>

namespace keymgr::store {

KeyMaterial::~KeyMaterial() { wipe(); }

void KeyMaterial::wipe() noexcept {
  secmem::secure_wipe(bytes.data(), bytes.size());
  len = 0;
}

bool KeyMaterial::assign(std::span<const std::uint8_t> src) noexcept {
  wipe();
  if (src.size() > bytes.size()) return false;
  std::copy(src.begin(), src.end(), bytes.begin());
  len = static_cast<std::uint16_t>(src.size());
  return true;
}

bool operator==(const KeyMaterial& a, const KeyMaterial& b) noexcept {
  return a.len == b.len && CRYPTO_memcmp(a.bytes.data(), b.bytes.data(), a.len) == 0;
}

}  // namespace keymgr::store
