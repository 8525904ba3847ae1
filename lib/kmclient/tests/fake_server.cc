// FakeServer: the listening thread, per-connection script threads, and
// frame helpers built with kmproto.
#include "fake_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "kmproto/frame_builder.h"

namespace kmclient::test {

using kmproto::MessageType;
using kmproto::ParamType;

FakeConn::~FakeConn() { ::close(fd_); }

std::optional<ReadFrame> FakeConn::read(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    kmproto::FrameDecoder dec;
    kmproto::Frame f;
    std::size_t used = 0;
    const auto st = dec.decode(in_, f, used);
    if (st == kmproto::Status::ok) {
      ReadFrame out{f.type, {f.params.begin(), f.params.end()}};
      in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(used));
      return out;
    }
    if (st != kmproto::Status::need_more) return std::nullopt;
    if (stop_ || std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    std::uint8_t buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return std::nullopt;
    in_.insert(in_.end(), buf, buf + n);
  }
}

bool FakeConn::send(std::span<const std::uint8_t> bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

bool FakeConn::accept_hello() {
  const auto f = read();
  if (!f || f->type != MessageType::hello) return false;
  std::vector<std::uint8_t> out;
  kmproto::FrameBuilder b(out);
  b.begin(kmproto::answer_of(MessageType::hello));
  b.add_u64(ParamType::server_time_ms, 1700000000000u);
  (void)b.finish();
  return send(out);
}

void FakeConn::stall() {
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    std::uint8_t buf[4096];
    if (::recv(fd_, buf, sizeof buf, 0) <= 0) return;
  }
}

FakeServer::FakeServer(Script script) : script_(std::move(script)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listen_fd_, 16) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ADD_FAILURE() << "fake server cannot listen";
    return;
  }
  port_ = ntohs(a.sin_port);
  acceptor_ = std::thread([this] { run(); });
}

FakeServer::~FakeServer() {
  stop_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  for (auto& t : conns_) t.join();
  ::close(listen_fd_);
}

void FakeServer::run() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    const int index = accepted_++;
    conns_.emplace_back([this, fd, index] {
      FakeConn c(fd, index, stop_);
      script_(c);
    });
  }
}

std::vector<MessageType> FakeServer::received() const {
  std::lock_guard lock(mu_);
  return received_;
}

void FakeServer::note_received(MessageType t) {
  std::lock_guard lock(mu_);
  received_.push_back(t);
}

std::uint16_t closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  (void)::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  (void)::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

std::vector<std::uint8_t> answer_frame(MessageType request, std::span<const kmproto::KeyRecord> records) {
  std::vector<std::uint8_t> out;
  kmproto::FrameBuilder b(out);
  b.begin(kmproto::answer_of(request));
  for (const auto& r : records) b.add_key_record(r);
  (void)b.finish();
  return out;
}

std::vector<std::uint8_t> error_frame(kmproto::ErrorCode code, const std::string& text) {
  std::vector<std::uint8_t> out;
  kmproto::FrameBuilder b(out);
  b.begin(MessageType::error);
  b.add_u16(ParamType::error_code, static_cast<std::uint16_t>(code));
  b.add_string(ParamType::error_text, text);
  (void)b.finish();
  return out;
}

std::vector<std::uint8_t> heartbeat_frame(std::uint64_t server_time_ms) {
  std::vector<std::uint8_t> out;
  kmproto::FrameBuilder b(out);
  b.begin(MessageType::heartbeat);
  b.add_u64(ParamType::server_time_ms, server_time_ms);
  (void)b.finish();
  return out;
}

std::vector<std::uint8_t> delivery_frame(std::uint64_t version, const kmproto::KeyRecord& r) {
  std::vector<std::uint8_t> out;
  kmproto::FrameBuilder b(out);
  b.begin(MessageType::key_delivery);
  b.add_u64(ParamType::version, version);
  b.add_key_record(r);
  (void)b.finish();
  return out;
}

kmproto::KeyRecord make_record(std::uint32_t channel_id, std::uint32_t key_id, kmproto::KeyState state,
                               std::size_t material_len) {
  kmproto::KeyRecord r;
  r.channel_id = channel_id;
  r.key_id = key_id;
  r.suite = 3;
  r.state = state;
  r.lifetime_ms = 10000;
  r.remaining_ms = 5000;
  const std::vector<std::uint8_t> m(material_len, static_cast<std::uint8_t>(key_id));
  (void)r.set_material(m);
  return r;
}

}  // namespace kmclient::test
