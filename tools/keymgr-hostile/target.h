// What keycast-keymgr-hostile knows of the key manager it attacks: where it
// listens (127.0.0.1), its pid (for RSS), its limits and peers (from its TOML
// config), and the identities the attacks use; connections and frames made
// from them.
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "test_client.h"

namespace hostile {

using keymgr::test::OwnedFrame;
using keymgr::test::TestClient;
using keymgr::test::TlsIdentity;
using Ms = std::chrono::milliseconds;

// A peer of the config: id, protocol role, lab token, TLS certificate.
struct PeerIdentity {
  std::string id;
  std::uint8_t role = 2;
  std::string token;  // lab mode
  TlsIdentity tls;    // TLS mode: cert and key of CN id
};

struct Target {
  std::uint16_t port = 0;
  pid_t pid = 0;  // 0: RSS not sampled
  bool lab = true;
  std::uint32_t channel = 0;  // a channel both peers may read, with keys made by the key manager
  PeerIdentity good;          // the well-behaved peer whose latency is measured
  PeerIdentity attacker;      // an entitled peer that floods and holds connections
  TlsIdentity stranger;       // TLS: right CA, CN that is no peer
  TlsIdentity foreign;        // TLS: another CA, CN of the good peer
  std::string ca;             // TLS: verifies the server
  // The key manager's limits, as its config sets them.
  Ms idle_timeout{30000};
  std::size_t max_connections = 20000;
  std::uint32_t request_rate = 1000;
  std::uint32_t request_burst = 2000;

  // When a silent connection must be closed, counted from its connect (or
  // its last complete frame): once the idle timeout passed, no earlier
  // (less a tenth for the timer's granularity), and soon after.
  Ms idle_close_min() const { return idle_timeout * 9 / 10 - Ms(50); }
  Ms idle_close_max() const { return idle_timeout + std::max(Ms(500), idle_timeout / 5); }
};

// A connection (TLS where the target wants it) with no HELLO sent; tls
// overrides the identity presented (null: none).
std::unique_ptr<TestClient> connect_raw(const Target& t, const TlsIdentity* tls);
std::unique_ptr<TestClient> connect_raw(const Target& t, const PeerIdentity& as);
// Connected and past HELLO as `as`; null (and why in *why) otherwise.
std::unique_ptr<TestClient> connect_peer(const Target& t, const PeerIdentity& as, std::string* why = nullptr);

std::vector<std::uint8_t> hello_frame(const PeerIdentity& as);
std::vector<std::uint8_t> key_request_frame(std::uint32_t channel);
std::vector<std::uint8_t> heartbeat_frame();
// A frame header announcing `length` parameter bytes, and nothing else.
std::vector<std::uint8_t> frame_header(std::uint16_t type, std::uint32_t length);

bool is_answer(const std::optional<OwnedFrame>& f, std::uint16_t request_type);
bool is_error(const std::optional<OwnedFrame>& f, std::uint16_t code);
// "no answer", "answer 0x8001", "ERROR 2 (text)".
std::string describe(const std::optional<OwnedFrame>& f);

inline constexpr std::uint16_t kHello = 0x0001, kKeyRequest = 0x0002, kHeartbeat = 0x0008;
inline constexpr std::uint16_t kBadMessage = 1, kUnauthenticated = 2, kRateLimited = 6;

}  // namespace hostile
