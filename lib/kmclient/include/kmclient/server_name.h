// The name a TLS client expects in the key manager's certificate: the host
// it dialled. An IP literal must be one of the certificate's IP addresses; a
// host name must match one of its DNS names and is sent as SNI. Used by
// kmclient's connections and by a replica key manager dialling its master.
#pragma once

#include <openssl/ssl.h>

#include <string>

namespace kmclient {

// Before the handshake; verification must be on (SSL_VERIFY_PEER).
void expect_server_name(SSL* ssl, const std::string& host);

}  // namespace kmclient
