// Listener: accept loop, connection cap, TLS context.
#include "listener.h"

#include <openssl/ssl.h>

#include <stdexcept>

#include "frame_connection.h"

namespace keymgr {

std::unique_ptr<asio::ssl::context> make_server_tls(const std::string& cert_file, const std::string& key_file,
                                                    const std::string& ca_file) {
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_3_VERSION);
  SSL_CTX_set_options(ctx->native_handle(), SSL_OP_CLEANSE_PLAINTEXT);  // KEY_PUSH carries keys in clear inside TLS
  auto load = [](const std::string& what, const std::string& file, auto&& fn) {
    asio::error_code ec;
    fn(ec);
    if (ec) throw std::runtime_error("TLS " + what + " " + file + ": " + ec.message());
  };
  load("certificate", cert_file, [&](asio::error_code& ec) { ctx->use_certificate_chain_file(cert_file, ec); });
  load("private key", key_file, [&](asio::error_code& ec) { ctx->use_private_key_file(key_file, asio::ssl::context::pem, ec); });
  load("CA", ca_file, [&](asio::error_code& ec) { ctx->load_verify_file(ca_file, ec); });
  ctx->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
  return ctx;
}

Listener::Listener(asio::io_context& io, const asio::ip::tcp::endpoint& at, RequestHandler& handler,
                   const ConnectionLimits& limits, asio::ssl::context* tls)
    : acceptor_(io, at, /*reuse_address=*/true), retry_(io), handler_(handler), limits_(limits), tls_(tls) {}

void Listener::stop() {
  asio::error_code ignored;
  acceptor_.close(ignored);
  retry_.cancel();
}

void Listener::accept() {
  acceptor_.async_accept([this](const asio::error_code& ec, asio::ip::tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (ec && ec != asio::error::connection_aborted) {
      // Out of descriptors or memory: the connection stays in the backlog and
      // accepting again at once would fail at once, so wait a little.
      retry_.expires_after(std::chrono::milliseconds(100));
      retry_.async_wait([this](const asio::error_code& e) {
        if (!e && acceptor_.is_open()) accept();
      });
      return;
    }
    if (!ec) {
      if (counter_->live() >= limits_.max_connections) {
        ++refused_;
        asio::error_code ignored;
        socket.close(ignored);
      } else {
        Peer peer;
        peer.connection_id = next_id_++;
        asio::error_code ignored;
        const auto remote = socket.remote_endpoint(ignored);
        peer.address = remote.address().to_string() + ":" + std::to_string(remote.port());
        asio::ip::tcp::no_delay nodelay(true);
        socket.set_option(nodelay, ignored);
        if (tls_) {
          peer.tls = true;
          using Stream = asio::ssl::stream<asio::ip::tcp::socket>;
          std::make_shared<FrameConnection<Stream>>(Stream(std::move(socket), *tls_), std::move(peer), handler_,
                                                    limits_, counter_)
              ->start();
        } else {
          std::make_shared<FrameConnection<asio::ip::tcp::socket>>(std::move(socket), std::move(peer), handler_,
                                                                   limits_, counter_)
              ->start();
        }
      }
    }
    accept();
  });
}

}  // namespace keymgr
