// The test sender for keycast-recv: scrambles one channel with
// pktparse::scramble under the key manager's current key (polled as gateway
// gw1 every 50 ms over its own kmclient connection) and multicasts it on
// loopback, with KEY_REMAINING_MS on data and a KEY_NOTICE per poll while a
// next key exists (unless notices are filtered out). Keeps every clear byte
// it sent, so a receiver's output can be compared byte for byte.
#pragma once

#include <netinet/in.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "kmclient/client.h"
#include "pktparse/scramble.h"

namespace keycast::test {

using Bytes = std::vector<std::uint8_t>;

// Datagram i's clear payload: raw bytes of varying length, or seven TS
// packets (1316 bytes) on PID 0x100 with payload, scrambling bits 00.
Bytes raw_payload(std::uint64_t i);
Bytes ts_payload(std::uint64_t i);
Bytes read_file(const std::filesystem::path& p);
// 239.255.(pid-based).n: distinct per test process.
std::string test_group(int n);

struct SenderOptions {
  std::vector<std::uint16_t> keymgr_ports;  // gw1's endpoints, in failover order
  std::uint32_t channel = 1;
  bool ts = false;
  bool notices = true;
  std::string group;
  std::uint16_t port = 0;
};

class ChannelSender {
 public:
  explicit ChannelSender(const SenderOptions& o);
  ~ChannelSender();

  // Polls the key manager if 50 ms have passed (a failed poll keeps the
  // current key: a key manager outage), then scrambles and sends payload(i)
  // of the next datagram. False (with a test failure) when there is no key.
  bool send_next();
  // The same with a payload of the caller's.
  bool send_payload(const Bytes& clear);
  // send_next() n times, `pace` apart.
  bool send(int n, std::chrono::milliseconds pace = std::chrono::milliseconds(4));

  const Bytes& sent() const { return sent_; }
  // The clear bytes sent since sent().size() was `mark`.
  Bytes sent_since(std::size_t mark) const { return Bytes(sent_.begin() + static_cast<std::ptrdiff_t>(mark), sent_.end()); }
  int switches() const { return switches_; }
  std::uint64_t failed_polls() const { return failed_polls_; }
  std::uint64_t notices_sent() const { return notices_; }

 private:
  void poll_keys();
  void send_datagram(const Bytes& b);

  SenderOptions o_;
  std::unique_ptr<kmclient::KeymgrClient> km_;
  int fd_ = -1;
  sockaddr_in dest_{};
  pktparse::ChannelRules rules_;
  pktparse::PreparedKey key_;
  std::uint32_t key_remaining_ms_ = 0;  // at key_polled_
  std::chrono::steady_clock::time_point key_polled_{}, last_poll_{};
  std::uint64_t seq_ = 0;
  Bytes sent_;
  int switches_ = 0;
  std::uint64_t failed_polls_ = 0, notices_ = 0;
};

}  // namespace keycast::test
