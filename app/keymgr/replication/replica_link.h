// A replica's link to its master: HELLO as the replica peer, SUBSCRIBE since
// the last version applied, apply each KEY_DELIVERY durably and in order.
// Reconnects with backoff (100 ms doubling to 1 s: a restarted master's new
// keys reach clients that failed over here within a second) after a drop, a master restart or 3 s of silence
// (the master sends a HEARTBEAT every second), resuming where it stopped.
#pragma once

#include <asio.hpp>
#include <asio/ssl.hpp>

#include <chrono>
#include <memory>
#include <string>

#include "config/keymgr_config.h"
#include "service/key_service.h"

namespace keymgr {

// TLS 1.3 client context presenting [tls] client_cert (CN = replica_peer_id)
// and verifying the master against the [tls] CA (each session also checks
// that the master's certificate names the host it dialled). Throws
// std::runtime_error.
std::unique_ptr<asio::ssl::context> make_client_tls(const TlsConfig& tls);

class ReplicaLink {
 public:
  ReplicaLink(asio::io_context& io, const KeymgrConfig& config, KeyService& service, asio::ssl::context* tls);
  void start() { connect(); }
  bool connected() const noexcept { return connected_; }
  // When the last frame from the master arrived (the master sends one at
  // least every second); the link's start until the first.
  std::chrono::steady_clock::time_point last_frame() const noexcept { return last_frame_; }

  // Called by the session.
  void on_up();
  void on_down(const std::string& why);
  void on_frame() noexcept { last_frame_ = std::chrono::steady_clock::now(); }

 private:
  void connect();

  asio::io_context& io_;
  const KeymgrConfig& config_;
  KeyService& service_;
  asio::ssl::context* tls_;
  asio::steady_timer retry_;
  static constexpr std::chrono::milliseconds kFirstRetry{100}, kMaxRetry{1000};
  std::chrono::milliseconds backoff_ = kFirstRetry;
  bool connected_ = false;
  std::chrono::steady_clock::time_point last_frame_ = std::chrono::steady_clock::now();
  std::string last_error_;
};

}  // namespace keymgr
