// ChannelSender and the payload helpers (see channel_sender.h).
#include "channel_sender.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <numeric>
#include <thread>

namespace keycast::test {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

Bytes raw_payload(std::uint64_t i) {
  Bytes b(200 + i % 900);
  std::iota(b.begin(), b.end(), static_cast<std::uint8_t>(i));
  return b;
}

Bytes ts_payload(std::uint64_t i) {
  Bytes b(7 * pktparse::kTsPacketLen);
  for (std::size_t p = 0; p < 7; ++p) {
    std::uint8_t* t = b.data() + p * pktparse::kTsPacketLen;
    t[0] = pktparse::kTsSync;
    t[1] = 0x01;
    t[2] = 0x00;
    t[3] = static_cast<std::uint8_t>(0x10 | ((i * 7 + p) & 0x0F));
    for (std::size_t k = 4; k < pktparse::kTsPacketLen; ++k) t[k] = static_cast<std::uint8_t>(i + p * 3 + k);
  }
  return b;
}

Bytes read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), {});
}

std::string test_group(int n) {
  return "239.255." + std::to_string(::getpid() % 250 + 1) + "." + std::to_string(n);
}

ChannelSender::ChannelSender(const SenderOptions& o) : o_(o), fd_(::socket(AF_INET, SOCK_DGRAM, 0)) {
  kmclient::ClientConfig c;
  for (const auto p : o.keymgr_ports) c.endpoints.push_back({"127.0.0.1", p});
  c.role = kmproto::Role::gateway;
  c.peer_id = "gw1";
  c.auth_token = "gw1-lab-token";
  km_ = std::make_unique<kmclient::KeymgrClient>(c);
  rules_.ts = o.ts;
  in_addr lo{};
  lo.s_addr = htonl(INADDR_LOOPBACK);
  ::setsockopt(fd_, IPPROTO_IP, IP_MULTICAST_IF, &lo, sizeof lo);
  const unsigned char loop = 1;
  ::setsockopt(fd_, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop);
  dest_.sin_family = AF_INET;
  dest_.sin_port = htons(o.port);
  ::inet_pton(AF_INET, o.group.c_str(), &dest_.sin_addr);
}

ChannelSender::~ChannelSender() { ::close(fd_); }

void ChannelSender::poll_keys() {
  const auto now = Clock::now();
  if (key_.ready() && now - last_poll_ < 50ms) return;
  last_poll_ = now;
  const auto recs = km_->request_keys(o_.channel);
  if (!recs) {
    ++failed_polls_;
    return;
  }
  for (const auto& r : *recs) {
    if (r.state != kmproto::KeyState::current) continue;
    if (r.key_id != key_.key_id()) {
      ASSERT_EQ(key_.prepare(static_cast<pktparse::Suite>(r.suite), r.key_id, r.material()), pktparse::Status::ok);
      ++switches_;
    }
    key_remaining_ms_ = r.remaining_ms;
    key_polled_ = now;
  }
  for (const auto& r : *recs) {
    if (r.state != kmproto::KeyState::next || !key_.ready() || !o_.notices) continue;
    const auto h = pktparse::make_key_notice(o_.channel, key_.suite(), key_.key_id(), r.key_id, 100);
    Bytes n(pktparse::header_len(h));
    pktparse::encode_header(h, n.data());
    send_datagram(n);
    ++notices_;
  }
}

bool ChannelSender::send_next() { return send_payload(o_.ts ? ts_payload(seq_) : raw_payload(seq_)); }

bool ChannelSender::send_payload(const Bytes& clear) {
  poll_keys();
  if (!key_.ready()) {
    ADD_FAILURE() << "no key for channel " << o_.channel;
    return false;
  }
  pktparse::KcHeader h;
  h.channel_id = o_.channel;
  h.seq = static_cast<std::uint32_t>(++seq_);
  const auto since = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - key_polled_).count();
  h.key_remaining_ms = since < key_remaining_ms_ ? key_remaining_ms_ - static_cast<std::uint32_t>(since) : 0;
  h.set(pktparse::TlvType::key_remaining_ms);
  const std::size_t hlen = pktparse::header_len(h);
  Bytes buf(hlen + clear.size() + pktparse::kGcmTagLen);
  std::copy(clear.begin(), clear.end(), buf.begin() + static_cast<std::ptrdiff_t>(hlen));
  if (pktparse::scramble(key_, rules_, h, buf.data(), buf.data() + hlen, clear.size()) != pktparse::Status::ok) {
    ADD_FAILURE() << "scramble failed";
    return false;
  }
  buf.resize(hlen + clear.size() + pktparse::suite_trailer_len(key_.suite()));
  send_datagram(buf);
  sent_.insert(sent_.end(), clear.begin(), clear.end());
  return true;
}

bool ChannelSender::send(int n, std::chrono::milliseconds pace) {
  for (int i = 0; i < n; ++i) {
    if (!send_next()) return false;
    std::this_thread::sleep_for(pace);
  }
  return true;
}

void ChannelSender::send_datagram(const Bytes& b) {
  const auto n = ::sendto(fd_, b.data(), b.size(), 0, reinterpret_cast<const sockaddr*>(&dest_), sizeof dest_);
  EXPECT_EQ(n, static_cast<ssize_t>(b.size())) << "sendto";
}

}  // namespace keycast::test
