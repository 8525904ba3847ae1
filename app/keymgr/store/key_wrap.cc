// AES-256-GCM key wrapping through OpenSSL EVP.
#include "store/key_wrap.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <memory>

namespace keymgr::store {
namespace {

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

std::array<std::uint8_t, 9> make_aad(const KeyLabel& l) {
  return {static_cast<std::uint8_t>(l.channel_id >> 24), static_cast<std::uint8_t>(l.channel_id >> 16),
          static_cast<std::uint8_t>(l.channel_id >> 8),  static_cast<std::uint8_t>(l.channel_id),
          static_cast<std::uint8_t>(l.key_id >> 24),     static_cast<std::uint8_t>(l.key_id >> 16),
          static_cast<std::uint8_t>(l.key_id >> 8),      static_cast<std::uint8_t>(l.key_id),
          l.suite};
}

Failure crypto_failure(const char* what) {
  return fail(StoreError::internal, std::string("key wrap: ") + what + " failed");
}

}  // namespace

Result<std::vector<std::uint8_t>> wrap_key(const Kek& kek, const KeyLabel& label,
                                           std::span<const std::uint8_t> material) {
  if (material.size() > kMaxKeyLength) return fail(StoreError::invalid, "key wrap: material too long");
  std::vector<std::uint8_t> out(kWrapOverhead + material.size());
  std::uint8_t* nonce = out.data();
  std::uint8_t* ct = nonce + kWrapNonceSize;
  std::uint8_t* tag = ct + material.size();
  if (RAND_bytes(nonce, static_cast<int>(kWrapNonceSize)) != 1) return crypto_failure("RAND_bytes");

  const auto aad = make_aad(label);
  Ctx ctx(EVP_CIPHER_CTX_new());
  int n = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, kek.bytes().data(), nonce) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &n, aad.data(), static_cast<int>(aad.size())) != 1) {
    return crypto_failure("encrypt init");
  }
  if (!material.empty() &&
      EVP_EncryptUpdate(ctx.get(), ct, &n, material.data(), static_cast<int>(material.size())) != 1) {
    return crypto_failure("encrypt");
  }
  if (EVP_EncryptFinal_ex(ctx.get(), ct + material.size(), &n) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kWrapTagSize), tag) != 1) {
    return crypto_failure("encrypt final");
  }
  return out;
}

Result<KeyMaterial> unwrap_key(const Kek& kek, const KeyLabel& label,
                               std::span<const std::uint8_t> blob) {
  if (blob.size() < kWrapOverhead || blob.size() - kWrapOverhead > kMaxKeyLength) {
    return fail(StoreError::corrupt, "key unwrap: blob of " + std::to_string(blob.size()) +
                                         " bytes has an impossible length");
  }
  const std::size_t len = blob.size() - kWrapOverhead;
  const std::uint8_t* nonce = blob.data();
  const std::uint8_t* ct = nonce + kWrapNonceSize;
  std::array<std::uint8_t, kWrapTagSize> tag{};
  std::copy(ct + len, ct + len + kWrapTagSize, tag.begin());

  const auto aad = make_aad(label);
  KeyMaterial out;
  Ctx ctx(EVP_CIPHER_CTX_new());
  int n = 0;
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, kek.bytes().data(), nonce) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &n, aad.data(), static_cast<int>(aad.size())) != 1) {
    return crypto_failure("decrypt init");
  }
  if (len > 0 && EVP_DecryptUpdate(ctx.get(), out.bytes.data(), &n, ct, static_cast<int>(len)) != 1) {
    return crypto_failure("decrypt");
  }
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kWrapTagSize), tag.data()) != 1) {
    return crypto_failure("set tag");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), out.bytes.data() + len, &n) != 1) {
    out.wipe();
    return fail(StoreError::corrupt,
                "key unwrap: authentication failed for channel " + std::to_string(label.channel_id) +
                    " key " + std::to_string(label.key_id) + " (tampered, moved, or another KEK)");
  }
  out.len = static_cast<std::uint16_t>(len);
  return out;
}

}  // namespace keymgr::store
