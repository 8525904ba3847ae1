// Key preparation and wiping.
#include "pktparse/key.h"

#include <cstring>
#include <new>

#include "aes.h"
#include "secmem/wipe.h"

namespace pktparse {

PreparedKey::~PreparedKey() {
  wipe();
  delete aes_;
}

void PreparedKey::wipe() noexcept {
  pattern_.wipe();
  secmem::secure_wipe(ts_keystream_, sizeof ts_keystream_);
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
    lay_out_ts_keystream(key_id);
  } else {
    if (!aes_ && !(aes_ = new (std::nothrow) detail::AesKey)) return Status::crypto_error;
    if (const Status s = aes_->prepare(suite, material, aes_backend()); s != Status::ok) return s;
  }
  suite_ = suite;
  key_id_ = key_id;
  ready_ = true;
  return Status::ok;
}

void PreparedKey::lay_out_ts_keystream(std::uint32_t key_id) noexcept {
  const std::uint8_t tsc = (key_id & 1) ? 0x3 : 0x2;  // wire-format §4: even 10, odd 11
  std::size_t pos = 0;
  for (std::size_t i = 0; i < kTsKeystreamPackets; ++i) {
    std::uint8_t* pkt = ts_keystream_ + i * kTsPacketLen;
    std::memset(pkt, 0, kTsPacketLen);
    pkt[3] = static_cast<std::uint8_t>(tsc << 6);
    pos = fastxor::xor_pattern(pkt + 4, kTsPacketLen - 4, pattern_, pos);
  }
}

}  // namespace pktparse
