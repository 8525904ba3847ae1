// One key manager connection over a byte stream (plain TCP or TLS): reads
// frames, hands each to the RequestHandler, writes the answers in order, and
// closes on a malformed stream, on request, or after the idle timeout (a
// peer that sends no complete frame in time, however slowly it trickles
// bytes, is closed). Frames over the protocol's limit are refused from their
// header and never buffered.
#pragma once

#include <asio.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "connection_limits.h"
#include "kmproto/frame.h"
#include "peer.h"
#include "request_handler.h"
#include "secmem/allocator.h"

namespace keymgr {

class ConnectionCounter;

template <class Stream>
class FrameConnection : public FrameSink, public std::enable_shared_from_this<FrameConnection<Stream>> {
 public:
  FrameConnection(Stream stream, Peer peer, RequestHandler& handler, const ConnectionLimits& limits,
                  std::shared_ptr<ConnectionCounter> counter);
  ~FrameConnection() override;

  // Starts reading (after the TLS handshake where there is one).
  void start();
  void push(std::span<const std::uint8_t> frames) override;

 private:
  void read();
  void process();
  void flush();
  void release();
  void arm_idle_timer();
  void shut();

  Stream stream_;
  Peer peer_;
  RequestHandler& handler_;
  const ConnectionLimits& limits_;
  std::shared_ptr<ConnectionCounter> counter_;
  asio::steady_timer idle_;
  std::chrono::steady_clock::time_point last_frame_;
  std::chrono::steady_clock::time_point burst_read_;  // of the frames whose answers are held
  kmproto::FrameDecoder decoder_;
  // Secret memory: frames carry key material. Bytes consumed or written are
  // wiped at once, not left in the buffers' spare room.
  secmem::Bytes in_;
  std::size_t in_len_ = 0;
  secmem::Bytes pending_;  // answers not yet handed to the socket
  secmem::Bytes writing_;  // answers the socket is writing
  bool reading_ = false;
  bool held_ = false;  // answers wait for the handler's commit
  bool close_after_write_ = false;
  bool closed_ = false;
};

}  // namespace keymgr
