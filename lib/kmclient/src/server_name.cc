// expect_server_name (see server_name.h).
#include "kmclient/server_name.h"

#include <arpa/inet.h>
#include <openssl/x509_vfy.h>

namespace kmclient {

void expect_server_name(SSL* ssl, const std::string& host) {
  in6_addr ip{};
  const bool literal = ::inet_pton(AF_INET, host.c_str(), &ip) == 1 || ::inet_pton(AF_INET6, host.c_str(), &ip) == 1;
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  if (literal) {
    X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
    return;
  }
  X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
  // SSL_set_tlsext_host_name without its C cast.
  SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(host.c_str()));
}

}  // namespace kmclient
