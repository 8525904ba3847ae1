// make_tls_context: an SSL_CTX from the configured PEM files.
#include "tls_context.h"

#include <openssl/err.h>

#include <string>

namespace kmclient::detail {
namespace {

Error tls_config_error(const std::string& what) {
  const unsigned long e = ERR_peek_error();
  char buf[256] = "";
  if (e != 0) ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return Error{ErrorKind::config, std::nullopt, what + (e != 0 ? std::string(": ") + buf : std::string())};
}

}  // namespace

Result<SslCtxPtr> make_tls_context(const TlsFiles& files) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return tls_config_error("TLS context");
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // Answers carry key material in clear inside TLS: wipe each record once it
  // is read, and give the record buffers back (wiped, secmem) when idle.
  SSL_CTX_set_options(ctx.get(), SSL_OP_CLEANSE_PLAINTEXT);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_load_verify_locations(ctx.get(), files.ca.c_str(), nullptr) != 1)
    return tls_config_error("TLS CA file " + files.ca);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (files.cert.empty() != files.key.empty())
    return Error{ErrorKind::config, std::nullopt, "TLS needs both a certificate and a key file, or neither"};
  if (!files.cert.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx.get(), files.cert.c_str()) != 1)
      return tls_config_error("TLS certificate file " + files.cert);
    if (SSL_CTX_use_PrivateKey_file(ctx.get(), files.key.c_str(), SSL_FILETYPE_PEM) != 1)
      return tls_config_error("TLS key file " + files.key);
    if (SSL_CTX_check_private_key(ctx.get()) != 1) return tls_config_error("TLS key does not match the certificate");
  }
  return ctx;
}

}  // namespace kmclient::detail
