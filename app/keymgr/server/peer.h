// Who is at the other end of one key manager connection, and how the request
// handler reaches that connection to push frames (SUBSCRIBE deliveries).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "kmproto/protocol.h"

namespace keymgr {

// Where pushed frames go. Held weakly by whoever pushes: a closed connection
// simply disappears.
class FrameSink {
 public:
  virtual ~FrameSink() = default;
  virtual void push(std::span<const std::uint8_t> frames) = 0;
};

struct Peer {
  std::uint64_t connection_id = 0;
  std::string address;       // remote host:port, for logs
  bool tls = false;
  std::string cert_cn;       // subject CN of the client certificate (TLS only)
  bool authenticated = false;
  std::string peer_id;       // from HELLO, once authenticated
  kmproto::Role role = kmproto::Role::receiver;
  std::weak_ptr<FrameSink> sink;
};

}  // namespace keymgr
