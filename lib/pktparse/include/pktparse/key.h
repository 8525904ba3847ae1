// A key prepared for the packet path: the xor pattern expanded, or an OpenSSL
// cipher context keyed once, so per datagram only the IV changes. Material is
// wiped when the key is wiped, reprepared or destroyed.
//
// A PreparedKey carries cipher state: it is used by one thread at a time (the
// channel's owner), and is neither copyable nor shareable across threads.
#pragma once

#include <cstdint>
#include <span>

#include "fastxor/fastxor.h"
#include "pktparse/status.h"
#include "pktparse/suite.h"

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;

namespace pktparse {

class PreparedKey {
 public:
  PreparedKey() = default;
  ~PreparedKey();
  PreparedKey(const PreparedKey&) = delete;
  PreparedKey& operator=(const PreparedKey&) = delete;

  // Not for the packet path: allocates the cipher context on first use.
  Status prepare(Suite suite, std::uint32_t key_id, std::span<const std::uint8_t> material) noexcept;
  void wipe() noexcept;

  bool ready() const noexcept { return ready_; }
  Suite suite() const noexcept { return suite_; }
  std::uint32_t key_id() const noexcept { return key_id_; }
  const fastxor::Pattern& pattern() const noexcept { return pattern_; }
  EVP_CIPHER_CTX* cipher() const noexcept { return ctx_; }

 private:
  fastxor::Pattern pattern_;
  EVP_CIPHER_CTX* ctx_ = nullptr;
  Suite suite_ = Suite::xor_pattern;
  std::uint32_t key_id_ = 0;
  bool ready_ = false;
};

}  // namespace pktparse
