// The seam between connections (bytes, TLS, timers) and the key manager's
// logic: one call per complete frame, answers appended to `out` (secret
// memory: answers carry key material).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include "kmproto/frame.h"
#include "secmem/allocator.h"
#include "peer.h"

namespace keymgr {

enum class After { keep_open, close };

class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  // A frame that decoded. Answers (and ERROR frames) are appended to out.
  virtual After handle(Peer& peer, const kmproto::Frame& frame, secmem::Bytes& out) = 0;
  // A frame whose header is in but not all of its parameters yet: the
  // chance to refuse it at once rather than wait for (and buffer) the rest.
  virtual After unfinished(Peer& peer, kmproto::MessageType type, std::uint32_t length, secmem::Bytes& out) = 0;
  // A stream that does not decode (kmproto status): ERROR bad_message, then close.
  virtual void malformed(Peer& peer, kmproto::Status why, secmem::Bytes& out) = 0;
  virtual void closed(Peer& peer) = 0;
  // Called after a burst of frames was handled. True: the answers record
  // something not yet durable (accounting), so the connection holds them
  // until `release` is called, once it is committed; false: write them now.
  virtual bool hold_answers(std::function<void()> release) = 0;
  // A burst's answers go to the socket, `waited` after its frames were read
  // (handling, the accounting commit, a sync a key they carry waited for).
  virtual void answered(std::chrono::steady_clock::duration waited) = 0;
};

}  // namespace keymgr
