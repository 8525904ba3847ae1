// Key preparation and wiping.
#include "pktparse/key.h"

#include <openssl/evp.h>

namespace pktparse {

namespace {
const EVP_CIPHER* cipher_for(Suite s) noexcept {
  switch (s) {
    case Suite::aes128_ctr: return EVP_aes_128_ctr();
    case Suite::aes256_ctr: return EVP_aes_256_ctr();
    case Suite::aes128_gcm: return EVP_aes_128_gcm();
    case Suite::xor_pattern:
    case Suite::xor_inv: break;
  }
  return nullptr;
}
}  // namespace

PreparedKey::~PreparedKey() {
  wipe();
  EVP_CIPHER_CTX_free(ctx_);
}

void PreparedKey::wipe() noexcept {
  pattern_.wipe();
  if (ctx_) EVP_CIPHER_CTX_reset(ctx_);  // cleanses the key schedule
  ready_ = false;
  key_id_ = 0;
}

Status PreparedKey::prepare(Suite suite, std::uint32_t key_id, std::span<const std::uint8_t> material) noexcept {
  wipe();
  if (!key_length_ok(suite, material.size())) return Status::key_bad_length;
  if (suite_is_xor(suite)) {
    const bool ok = suite == Suite::xor_inv ? pattern_.assign_inverting(material) : pattern_.assign(material);
    if (!ok) return Status::key_bad_length;
  } else {
    if (!ctx_ && !(ctx_ = EVP_CIPHER_CTX_new())) return Status::crypto_error;
    if (EVP_EncryptInit_ex(ctx_, cipher_for(suite), nullptr, material.data(), nullptr) != 1) {
      EVP_CIPHER_CTX_reset(ctx_);
      return Status::crypto_error;
    }
  }
  suite_ = suite;
  key_id_ = key_id;
  ready_ = true;
  return Status::ok;
}

}  // namespace pktparse
