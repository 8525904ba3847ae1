// TestClient: sockets, TLS and frame reading for tests.
#include "test_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

#include <cstring>

#include "pktparse/bytes.h"

namespace keymgr::test {

using kmproto::MessageType;
using kmproto::ParamType;

std::vector<std::uint8_t> u8(std::uint8_t v) { return {v}; }
std::vector<std::uint8_t> u16(std::uint16_t v) {
  std::vector<std::uint8_t> b(2);
  pktparse::store_be16(b.data(), v);
  return b;
}
std::vector<std::uint8_t> u32(std::uint32_t v) {
  std::vector<std::uint8_t> b(4);
  pktparse::store_be32(b.data(), v);
  return b;
}
std::vector<std::uint8_t> u64(std::uint64_t v) {
  std::vector<std::uint8_t> b(8);
  pktparse::store_be64(b.data(), v);
  return b;
}
std::vector<std::uint8_t> str(const std::string& s) { return {s.begin(), s.end()}; }

std::vector<std::uint8_t> frame(MessageType type, const std::vector<std::pair<ParamType, std::vector<std::uint8_t>>>& params) {
  std::vector<std::uint8_t> out;
  kmproto::FrameBuilder b(out);
  b.begin(type);
  for (const auto& [t, v] : params) b.add_bytes(t, v);
  (void)b.finish();
  return out;
}

std::uint16_t OwnedFrame::error_code() const {
  std::uint16_t c = 0;
  if (type == MessageType::error) (void)view().read_u16(ParamType::error_code, c);
  return c;
}

std::string OwnedFrame::error_text() const {
  std::string_view s;
  (void)view().read_string(ParamType::error_text, s);
  return std::string(s);
}

std::vector<kmproto::KeyRecord> OwnedFrame::key_records() const {
  std::vector<kmproto::KeyRecord> out;
  const kmproto::Frame f = view();
  kmproto::KeyRecordIterator it(f);
  kmproto::KeyRecord r;
  while (it.next(r)) out.push_back(r);
  return out;
}

TestClient::TestClient(std::uint16_t port, const TlsIdentity* tls) {
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd_);
    fd_ = -1;
    return;
  }
  if (!tls) return;
  ctx_ = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(ctx_, tls->version);
  SSL_CTX_set_max_proto_version(ctx_, tls->version);
  SSL_CTX_load_verify_locations(ctx_, tls->ca.c_str(), nullptr);
  SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  if (!tls->cert.empty()) {
    SSL_CTX_use_certificate_chain_file(ctx_, tls->cert.c_str());
    SSL_CTX_use_PrivateKey_file(ctx_, tls->key.c_str(), SSL_FILETYPE_PEM);
  }
  ssl_ = SSL_new(ctx_);
  SSL_set_fd(ssl_, fd_);
  timeval tv{5, 0};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (SSL_connect(ssl_) != 1) {
    ERR_clear_error();
    SSL_free(ssl_);
    ssl_ = nullptr;
    close(fd_);
    fd_ = -1;
  }
}

TestClient::~TestClient() {
  if (ssl_) SSL_free(ssl_);
  if (ctx_) SSL_CTX_free(ctx_);
  if (fd_ >= 0) close(fd_);
}

bool TestClient::send(const std::vector<std::uint8_t>& bytes) {
  if (fd_ < 0) return false;
  if (ssl_) return SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size())) == static_cast<int>(bytes.size());
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

long TestClient::recv_some(std::uint8_t* p, std::size_t n, std::chrono::milliseconds timeout) {
  if (!ssl_ || SSL_pending(ssl_) == 0) {
    pollfd pfd{fd_, POLLIN, 0};
    const int r = poll(&pfd, 1, static_cast<int>(timeout.count()));
    if (r == 0) return -2;  // timeout
    if (r < 0) return -1;
  }
  if (ssl_) {
    const int r = SSL_read(ssl_, p, static_cast<int>(n));
    if (r <= 0) ERR_clear_error();
    return r;
  }
  return ::recv(fd_, p, n, 0);
}

std::optional<OwnedFrame> TestClient::read(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (fd_ >= 0) {
    kmproto::FrameDecoder d;
    kmproto::Frame f;
    std::size_t used = 0;
    const kmproto::Status s = d.decode(in_, f, used);
    if (s == kmproto::Status::ok) {
      OwnedFrame o{f.type, {f.params.begin(), f.params.end()}};
      in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(used));
      return o;
    }
    if (s != kmproto::Status::need_more) return std::nullopt;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    std::uint8_t buf[16384];
    const long n = recv_some(buf, sizeof buf, left);
    if (n <= 0) return std::nullopt;
    in_.insert(in_.end(), buf, buf + n);
  }
  return std::nullopt;
}

bool TestClient::closed_by_server(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::uint8_t buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    const long n = recv_some(buf, sizeof buf, left);
    if (n == -2) return false;
    if (n <= 0) return true;
  }
  return false;
}

std::optional<OwnedFrame> TestClient::hello(std::uint8_t role, const std::string& peer_id, const std::string& token) {
  std::vector<std::pair<ParamType, std::vector<std::uint8_t>>> p = {{ParamType::role, u8(role)},
                                                                     {ParamType::peer_id, str(peer_id)}};
  if (!token.empty()) p.push_back({ParamType::auth_token, str(token)});
  if (!send(frame(MessageType::hello, p))) return std::nullopt;
  return read();
}

std::optional<OwnedFrame> TestClient::key_request(std::uint32_t channel_id, std::uint32_t key_id) {
  std::vector<std::pair<ParamType, std::vector<std::uint8_t>>> p = {{ParamType::channel_id, u32(channel_id)}};
  if (key_id) p.push_back({ParamType::key_id, u32(key_id)});
  if (!send(frame(MessageType::key_request, p))) return std::nullopt;
  return read();
}

}  // namespace keymgr::test
