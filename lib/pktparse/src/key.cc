// Key preparation and wiping.
#include "pktparse/key.h"

#include <new>

#include "aes.h"

namespace pktparse {

PreparedKey::~PreparedKey() {
  wipe();
  delete aes_;
}

void PreparedKey::wipe() noexcept {
  pattern_.wipe();
  if (aes_) aes_->wipe();
  ready_ = false;
  key_id_ = 0;
}

AesBackend PreparedKey::backend() const noexcept { return aes_ ? aes_->backend : AesBackend::evp; }

Status PreparedKey::prepare(Suite suite, std::uint32_t key_id, std::span<const std::uint8_t> material) noexcept {
  wipe();
  if (!key_length_ok(suite, material.size())) return Status::key_bad_length;
  if (suite_is_xor(suite)) {
    const bool ok = suite == Suite::xor_inv ? pattern_.assign_inverting(material) : pattern_.assign(material);
    if (!ok) return Status::key_bad_length;
  } else {
    if (!aes_ && !(aes_ = new (std::nothrow) detail::AesKey)) return Status::crypto_error;
    if (const Status s = aes_->prepare(suite, material, aes_backend()); s != Status::ok) return s;
  }
  suite_ = suite;
  key_id_ = key_id;
  ready_ = true;
  return Status::ok;
}

}  // namespace pktparse
