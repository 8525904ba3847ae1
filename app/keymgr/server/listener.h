// Accepts key manager connections on one address, plain (lab) or TLS 1.3 with
// client certificates, up to the connection cap; connections over the cap
// are closed at once.
#pragma once

#include <asio.hpp>
#include <asio/ssl.hpp>

#include <cstdint>
#include <memory>

#include "connection_counter.h"
#include "connection_limits.h"
#include "request_handler.h"

namespace keymgr {

// TLS 1.3 only, client certificate required and verified against ca_file.
// Throws std::runtime_error naming the file that failed.
std::unique_ptr<asio::ssl::context> make_server_tls(const std::string& cert_file, const std::string& key_file,
                                                    const std::string& ca_file);

class Listener {
 public:
  // tls null: plaintext (lab). Throws asio::system_error if it cannot bind.
  Listener(asio::io_context& io, const asio::ip::tcp::endpoint& at, RequestHandler& handler,
           const ConnectionLimits& limits, asio::ssl::context* tls);

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::size_t live_connections() const { return counter_->live(); }
  std::uint64_t refused_connections() const { return refused_; }
  void start() { accept(); }
  void stop();

 private:
  void accept();

  asio::ip::tcp::acceptor acceptor_;
  asio::steady_timer retry_;  // accept failed (EMFILE, ENOBUFS...): wait instead of spinning
  RequestHandler& handler_;
  const ConnectionLimits& limits_;
  asio::ssl::context* tls_;
  std::shared_ptr<ConnectionCounter> counter_ = std::make_shared<ConnectionCounter>();
  std::uint64_t next_id_ = 1;
  std::uint64_t refused_ = 0;
};

}  // namespace keymgr
