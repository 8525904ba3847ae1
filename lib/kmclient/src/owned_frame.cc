// OwnedFrame: wiping of frame bytes.
#include "owned_frame.h"

#include <openssl/crypto.h>

namespace kmclient::detail {

void wipe(std::vector<std::uint8_t>& bytes) noexcept {
  if (!bytes.empty()) OPENSSL_cleanse(bytes.data(), bytes.size());
}

OwnedFrame& OwnedFrame::operator=(OwnedFrame&& o) noexcept {
  if (this != &o) {
    wipe(params);
    type = o.type;
    params = std::move(o.params);
  }
  return *this;
}

OwnedFrame::~OwnedFrame() { wipe(params); }

}  // namespace kmclient::detail
