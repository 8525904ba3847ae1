// SecretBytes and the names of fetch errors.
#include "keycast/key_source.h"

#include "secmem/wipe.h"

namespace keycast {

SecretBytes& SecretBytes::operator=(SecretBytes&& o) noexcept {
  if (this != &o) {
    wipe();
    bytes_ = std::move(o.bytes_);
    o.bytes_.clear();
  }
  return *this;
}

void SecretBytes::wipe() noexcept {
  secmem::secure_wipe(bytes_.data(), bytes_.size());
  bytes_.clear();
}

const char* fetch_error_name(FetchError e) noexcept {
  switch (e) {
    case FetchError::unreachable: return "key manager unreachable";
    case FetchError::unauthenticated: return "authentication refused";
    case FetchError::not_entitled: return "not entitled";
    case FetchError::unknown_channel: return "unknown channel";
    case FetchError::unknown_key: return "unknown key";
    case FetchError::other: return "fetch failed";
  }
  return "fetch failed";
}

}  // namespace keycast
