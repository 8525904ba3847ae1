// Key and Snapshot: the published key as callers see it, wiped when dropped.
#include <string.h>

#include <algorithm>

#include "keyshm/keyshm.h"

namespace keyshm {

Key::~Key() { explicit_bzero(material.data(), material.size()); }

std::span<const std::uint8_t> Key::bytes() const noexcept {
  return {material.data(), std::min<std::size_t>(key_length, kMaxMaterial)};
}

bool Key::set_material(std::span<const std::uint8_t> m) noexcept {
  if (m.size() > kMaxMaterial) return false;
  std::copy(m.begin(), m.end(), material.begin());
  std::fill(material.begin() + static_cast<std::ptrdiff_t>(m.size()), material.end(), std::uint8_t{0});
  key_length = static_cast<std::uint16_t>(m.size());
  return true;
}

const Key* Snapshot::find(KeyState s) const noexcept {
  for (std::size_t i = 0; i < count && i < keys.size(); ++i)
    if (keys[i].state == s) return &keys[i];
  return nullptr;
}

}  // namespace keyshm
