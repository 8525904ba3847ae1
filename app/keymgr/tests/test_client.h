// A blocking key manager client for tests: plain TCP or TLS (OpenSSL) to
// 127.0.0.1, frames built with kmproto, every read with a timeout.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kmproto/frame.h"
#include "kmproto/frame_builder.h"
#include "kmproto/key_record.h"

namespace keymgr::test {

// HELLO's role parameter, as the wire carries it (kmproto::Role).
inline constexpr std::uint8_t kGateway = static_cast<std::uint8_t>(kmproto::Role::gateway);
inline constexpr std::uint8_t kReceiver = static_cast<std::uint8_t>(kmproto::Role::receiver);

// A frame read off the wire, owning its bytes.
struct OwnedFrame {
  kmproto::MessageType type{};
  std::vector<std::uint8_t> params;
  kmproto::Frame view() const { return {type, params}; }
  std::uint16_t error_code() const;  // 0 unless an ERROR frame
  std::string error_text() const;
  std::vector<kmproto::KeyRecord> key_records() const;
};

struct TlsIdentity {
  std::string cert, key, ca;  // PEM files; cert/key empty: no client certificate
  int version = TLS1_3_VERSION;  // the only protocol version the client offers
};

class TestClient {
 public:
  // Connects; TLS when tls is given. ok() is false if it could not.
  explicit TestClient(std::uint16_t port, const TlsIdentity* tls = nullptr);
  ~TestClient();
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }  // for poll() over many clients
  bool send(const std::vector<std::uint8_t>& bytes);
  // The next frame, or nullopt on timeout, close or a malformed stream.
  std::optional<OwnedFrame> read(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // True if the server closes the connection within the timeout.
  bool closed_by_server(std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // HELLO with role (1 gateway, 2 receiver, 3 replica), peer_id and token
  // (empty: none); returns the answer.
  std::optional<OwnedFrame> hello(std::uint8_t role, const std::string& peer_id, const std::string& token);
  std::optional<OwnedFrame> key_request(std::uint32_t channel_id, std::uint32_t key_id = 0);

 private:
  long recv_some(std::uint8_t* p, std::size_t n, std::chrono::milliseconds timeout);

  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::vector<std::uint8_t> in_;
};

// One frame: type and parameters, encoded.
std::vector<std::uint8_t> frame(kmproto::MessageType type,
                                const std::vector<std::pair<kmproto::ParamType, std::vector<std::uint8_t>>>& params);
std::vector<std::uint8_t> u8(std::uint8_t v);
std::vector<std::uint8_t> u16(std::uint16_t v);
std::vector<std::uint8_t> u32(std::uint32_t v);
std::vector<std::uint8_t> u64(std::uint64_t v);
std::vector<std::uint8_t> str(const std::string& s);

}  // namespace keymgr::test
