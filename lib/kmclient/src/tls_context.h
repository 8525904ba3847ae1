// The client's OpenSSL context: TLS 1.3 only, the key manager's certificate
// verified against the configured CA, our certificate and key loaded.
#pragma once

#include <openssl/ssl.h>

#include <memory>

#include "kmclient/config.h"
#include "kmclient/result.h"

namespace kmclient::detail {

struct SslCtxFree {
  void operator()(SSL_CTX* c) const noexcept { SSL_CTX_free(c); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;

Result<SslCtxPtr> make_tls_context(const TlsFiles& files);

}  // namespace kmclient::detail
