// A connection to one endpoint on which HELLO has been answered.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <memory>

#include "connection.h"
#include "kmclient/config.h"
#include "kmclient/result.h"

namespace kmclient::detail {

struct Session {
  std::unique_ptr<Connection> conn;
  std::uint64_t server_time_ms = 0;
};

// Connects (TLS when tls_ctx is given) and says HELLO, all before deadline.
// Errors are prefixed with the endpoint.
Result<Session> open_session(const ClientConfig& config, SSL_CTX* tls_ctx, const Endpoint& ep, Deadline deadline);

}  // namespace kmclient::detail
