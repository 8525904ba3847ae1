// What a key manager client needs to know: the endpoints in failover order,
// how to pick among them, who it is, how it proves it, and its time limits.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kmproto/protocol.h"

namespace kmclient {

struct Endpoint {
  std::string host;  // IPv4/IPv6 literal or a name (names use the system resolver)
  std::uint16_t port = 0;

  std::string to_string() const;  // "host:port", "[v6]:port"
};

// TLS 1.3 with a client certificate whose CN is the peer_id.
struct TlsFiles {
  std::string cert;  // PEM certificate chain
  std::string key;   // PEM private key
  std::string ca;    // PEM CA the key manager's certificate must chain to
};

struct ClientConfig {
  enum class Failover {
    in_order,     // every reconnect starts at the first endpoint
    round_robin,  // every reconnect starts after the endpoint used last
  };

  std::vector<Endpoint> endpoints;
  Failover failover = Failover::in_order;
  kmproto::Role role = kmproto::Role::receiver;
  std::string peer_id;
  std::string auth_token;       // lab mode; sent in HELLO when not empty
  std::optional<TlsFiles> tls;  // plaintext TCP when absent (lab only)
  // Per endpoint: TCP connect + TLS handshake + HELLO answer.
  std::chrono::milliseconds connect_timeout{2000};
  // Per endpoint: the wait for each answer once the request is sent.
  std::chrono::milliseconds request_timeout{2000};
  // An endpoint that gave no answer in time (either timeout) is not dialled
  // again for hold_off, doubled after each further timeout in a row up to
  // hold_off_max; an answer to a request ends it. Meanwhile calls go to the
  // other endpoints, and fail at once when every endpoint is held off: a
  // thread with other work waits on a hung key manager once per hold-off,
  // not on every call. Zero: dial every time.
  std::chrono::milliseconds hold_off{500};
  std::chrono::milliseconds hold_off_max{8000};
};

}  // namespace kmclient
