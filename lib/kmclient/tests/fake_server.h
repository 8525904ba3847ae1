// A scripted key manager for unit tests: listens on 127.0.0.1:0 and runs a
// script (one thread per accepted connection) that reads the client's
// frames and writes whatever bytes the test wants, valid or not.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "kmproto/frame.h"
#include "kmproto/key_record.h"

namespace kmclient::test {

struct ReadFrame {
  kmproto::MessageType type{};
  std::vector<std::uint8_t> params;
  kmproto::Frame view() const { return {type, params}; }
};

class FakeConn {
 public:
  FakeConn(int fd, int index, const std::atomic<bool>& stop) : fd_(fd), index_(index), stop_(stop) {}
  ~FakeConn();
  FakeConn(const FakeConn&) = delete;
  FakeConn& operator=(const FakeConn&) = delete;

  // The next frame from the client; nullopt on close, timeout, server stop or
  // a malformed stream.
  std::optional<ReadFrame> read(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  bool send(std::span<const std::uint8_t> bytes);
  // Reads HELLO and answers it; false if the first frame is something else.
  bool accept_hello();
  // Holds the connection open, answering nothing, until the client closes it
  // or the server stops.
  void stall();
  // 0 for the first connection the server accepted, 1 for the next...
  int index() const { return index_; }

 private:
  int fd_;
  int index_;
  const std::atomic<bool>& stop_;
  std::vector<std::uint8_t> in_;
};

class FakeServer {
 public:
  using Script = std::function<void(FakeConn&)>;
  explicit FakeServer(Script script);
  ~FakeServer();
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  std::uint16_t port() const { return port_; }
  int connections() const { return accepted_.load(); }
  // Every message type the scripts read, in order, over all connections.
  std::vector<kmproto::MessageType> received() const;
  void note_received(kmproto::MessageType t);

 private:
  void run();

  Script script_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread acceptor_;
  std::vector<std::thread> conns_;
  mutable std::mutex mu_;
  std::vector<kmproto::MessageType> received_;
};

// A loopback port nothing listens on (bound, then closed).
std::uint16_t closed_port();

std::vector<std::uint8_t> answer_frame(kmproto::MessageType request,
                                       std::span<const kmproto::KeyRecord> records = {});
std::vector<std::uint8_t> error_frame(kmproto::ErrorCode code, const std::string& text);
std::vector<std::uint8_t> heartbeat_frame(std::uint64_t server_time_ms);
std::vector<std::uint8_t> delivery_frame(std::uint64_t version, const kmproto::KeyRecord& r);
// A key record with material_len bytes of material, each byte = key_id.
kmproto::KeyRecord make_record(std::uint32_t channel_id, std::uint32_t key_id, kmproto::KeyState state,
                               std::size_t material_len = 16);

}  // namespace kmclient::test
