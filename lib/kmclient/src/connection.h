// One TCP or TLS connection to a key manager endpoint. The socket is
// non-blocking and every operation waits with poll() until a deadline, so no
// call outlives the deadline it is given. Errors carry no endpoint name: the
// caller knows which endpoint it dialled.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "kmclient/config.h"
#include "kmclient/result.h"
#include "kmproto/frame.h"
#include "owned_frame.h"

namespace kmclient::detail {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

class Connection {
 public:
  // TCP connect to ep (every address it resolves to, in turn), then the TLS
  // handshake when tls_ctx is given.
  static Result<std::unique_ptr<Connection>> open(const Endpoint& ep, SSL_CTX* tls_ctx, Deadline deadline);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  Result<void> send(std::span<const std::uint8_t> bytes, Deadline deadline);
  // The next whole frame. A malformed stream is bad_frame, and stays so.
  Result<OwnedFrame> read_frame(Deadline deadline);
  // True if some bytes arrived since the connection was opened.
  bool heard_from() const noexcept { return heard_from_; }
  // A kept connection, before it carries a request: false when the key
  // manager closed it (idle timeout, restart) or sent anything unasked.
  bool idle_and_open();

 private:
  Connection(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {}
  Result<void> handshake(const Endpoint& ep, Deadline deadline);
  // Appends what is available to in_, waiting for at least one byte.
  Result<void> read_some(Deadline deadline);

  int fd_ = -1;
  SSL* ssl_ = nullptr;
  secmem::Bytes in_;  // bytes read and not yet cut into frames
  kmproto::FrameDecoder decoder_;
  bool heard_from_ = false;
};

}  // namespace kmclient::detail
