// keycast-recv end to end: the real key manager (lab config, 1 s
// crypto-periods), a sender here that fetches keys as gw1 and scrambles with
// pktparse::scramble (channel 1 aes128-ctr raw payloads, channel 2 xor
// MPEG-TS payloads) to 239.255.x.y multicast on loopback with KEY_NOTICEs,
// and keycast-recv writing each channel to a file that must be byte-identical
// to what was sent, across key changes. Plus the exit codes: not entitled (5),
// no key manager (4), no packets (3), bad arguments (2).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <numeric>
#include <sstream>
#include <thread>

#include "keymgr_process.h"
#include "kmclient/client.h"
#include "pktparse/scramble.h"
#include "recv_process.h"
#include "test_configs.h"

namespace keycast::test {
namespace {

using keymgr::test::KeymgrProcess;
using keymgr::test::TempDir;
using keymgr::test::free_port;
using Bytes = std::vector<std::uint8_t>;
using namespace std::chrono_literals;

std::string group(int n) {
  return "239.255." + std::to_string(::getpid() % 250 + 1) + "." + std::to_string(n);
}

Bytes read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(f), {});
}

Bytes raw_payload(std::uint64_t i) {
  Bytes b(200 + i % 900);
  std::iota(b.begin(), b.end(), static_cast<std::uint8_t>(i));
  return b;
}

// Seven TS packets (1316 bytes) on PID 0x100 with payload, scrambling bits 00.
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

// Scrambles and multicasts one channel, following the key manager's current
// key and announcing the next one with KEY_NOTICEs.
class ChannelSender {
 public:
  ChannelSender(std::uint32_t channel, bool ts, const std::string& grp, std::uint16_t port)
      : channel_(channel), fd_(::socket(AF_INET, SOCK_DGRAM, 0)) {
    rules_.ts = ts;
    in_addr lo{};
    lo.s_addr = htonl(INADDR_LOOPBACK);
    ::setsockopt(fd_, IPPROTO_IP, IP_MULTICAST_IF, &lo, sizeof lo);
    const unsigned char loop = 1;
    ::setsockopt(fd_, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop);
    dest_.sin_family = AF_INET;
    dest_.sin_port = htons(port);
    ::inet_pton(AF_INET, grp.c_str(), &dest_.sin_addr);
  }
  ~ChannelSender() { ::close(fd_); }

  // Takes the key manager's current key; sends a notice when a next exists.
  void update_keys(const std::vector<kmproto::KeyRecord>& recs) {
    for (const auto& r : recs) {
      if (r.state == kmproto::KeyState::current && r.key_id != key_.key_id()) {
        ASSERT_EQ(key_.prepare(static_cast<pktparse::Suite>(r.suite), r.key_id, r.material()), pktparse::Status::ok);
        ++switches_;
      }
    }
    for (const auto& r : recs) {
      if (r.state == kmproto::KeyState::next && key_.ready()) {
        const auto h = pktparse::make_key_notice(channel_, key_.suite(), key_.key_id(), r.key_id, 100);
        Bytes n(pktparse::header_len(h));
        pktparse::encode_header(h, n.data());
        send(n);
      }
    }
  }

  void send_data(const Bytes& clear) {
    pktparse::KcHeader h;
    h.channel_id = channel_;
    h.seq = ++seq_;
    const std::size_t hlen = pktparse::header_len(h);
    Bytes buf(hlen + clear.size() + pktparse::kGcmTagLen);
    std::copy(clear.begin(), clear.end(), buf.begin() + static_cast<std::ptrdiff_t>(hlen));
    ASSERT_EQ(pktparse::scramble(key_, rules_, h, buf.data(), buf.data() + hlen, clear.size()), pktparse::Status::ok);
    buf.resize(hlen + clear.size() + pktparse::suite_trailer_len(key_.suite()));
    send(buf);
    sent_.insert(sent_.end(), clear.begin(), clear.end());
  }

  const Bytes& sent() const { return sent_; }
  int switches() const { return switches_; }

 private:
  void send(const Bytes& b) {
    ASSERT_EQ(::sendto(fd_, b.data(), b.size(), 0, reinterpret_cast<const sockaddr*>(&dest_), sizeof dest_),
              static_cast<ssize_t>(b.size()));
  }

  std::uint32_t channel_;
  int fd_;
  sockaddr_in dest_{};
  pktparse::ChannelRules rules_;
  pktparse::PreparedKey key_;
  std::uint64_t seq_ = 0;
  Bytes sent_;
  int switches_ = 0;
};

class Recv : public ::testing::Test {
 protected:
  void SetUp() override {
    keymgr::test::ConfigOptions o;
    o.lifetime_ms = 1000;
    km_ = KeymgrProcess::start(dir_.path(), keymgr::test::lab_config(o));
    ASSERT_TRUE(km_);
  }
  std::string keymgr() const { return "127.0.0.1:" + std::to_string(km_->port()); }
  kmclient::ClientConfig gw1() const {
    kmclient::ClientConfig c;
    c.endpoints.push_back({"127.0.0.1", km_->port()});
    c.role = kmproto::Role::gateway;
    c.peer_id = "gw1";
    c.auth_token = "gw1-lab-token";
    return c;
  }

  TempDir dir_;
  std::unique_ptr<KeymgrProcess> km_;
};

TEST_F(Recv, DescramblesTwoChannelsByteIdenticalAcrossKeyChanges) {
  constexpr int kPerChannel = 600;
  const std::uint16_t port = free_port(SOCK_DGRAM);
  const auto out1 = dir_.path() / "ch1.bin";
  const auto out2 = dir_.path() / "ch2.ts";
  RecvProcess rx({"--keymgr", keymgr(), "--peer", "rx1", "--token", "rx1-lab-token", "--iface", "lo",
                  "--join", group(1) + ":" + std::to_string(port), "--join", group(2) + ":" + std::to_string(port),
                  "--channel", "1", "--channel", "2", "--out", out1.string(), "--out", out2.string(),
                  "--count", std::to_string(2 * kPerChannel), "--timeout-ms", "10000"},
                 dir_.path());
  ASSERT_TRUE(rx.wait_for_log("receiving on", 10s)) << rx.log();

  kmclient::KeymgrClient km(gw1());
  ChannelSender s1(1, false, group(1), port), s2(2, true, group(2), port);
  const kmclient::KeyQuery both[] = {{1, 0}, {2, 0}};
  auto last_poll = std::chrono::steady_clock::time_point{};
  for (int i = 0; i < kPerChannel; ++i) {
    if (std::chrono::steady_clock::now() - last_poll > 50ms) {
      auto keys = km.request_many(both);
      ASSERT_TRUE(keys) << keys.error().message;
      ASSERT_TRUE((*keys)[0] && (*keys)[1]);
      s1.update_keys(*(*keys)[0]);
      s2.update_keys(*(*keys)[1]);
      last_poll = std::chrono::steady_clock::now();
    }
    s1.send_data(raw_payload(static_cast<std::uint64_t>(i)));
    s2.send_data(ts_payload(static_cast<std::uint64_t>(i)));
    std::this_thread::sleep_for(4ms);
  }
  const int code = rx.wait(20s);
  const std::string log = rx.log();
  ASSERT_EQ(code, 0) << log;
  EXPECT_GE(s1.switches(), 2) << "the crypto-period should have changed during the run";
  const Bytes got1 = read_file(out1), got2 = read_file(out2);
  EXPECT_EQ(got1.size(), s1.sent().size()) << log;
  EXPECT_TRUE(got1 == s1.sent()) << "channel 1 output differs\n" << log;
  EXPECT_EQ(got2.size(), s2.sent().size()) << log;
  EXPECT_TRUE(got2 == s2.sent()) << "channel 2 output differs\n" << log;
  EXPECT_NE(log.find("descrambled 1200"), std::string::npos) << log;
  std::cout << log;
}

TEST_F(Recv, NotEntitledExits5) {
  RecvProcess rx({"--keymgr", keymgr(), "--peer", "rx2", "--token", "rx2-lab-token", "--join",
                  group(3) + ":" + std::to_string(free_port(SOCK_DGRAM)), "--channel", "1", "--out",
                  (dir_.path() / "x").string()},
                 dir_.path());
  EXPECT_EQ(rx.wait(20s), 5) << rx.log();
  EXPECT_NE(rx.log().find("peer rx2 is not entitled to channel 1"), std::string::npos) << rx.log();
}

TEST_F(Recv, NoKeyManagerExits4) {
  RecvProcess rx({"--keymgr", "127.0.0.1:" + std::to_string(free_port(SOCK_STREAM)), "--peer", "rx1", "--token",
                  "rx1-lab-token", "--join", group(4) + ":" + std::to_string(free_port(SOCK_DGRAM)), "--channel", "1"},
                 dir_.path());
  EXPECT_EQ(rx.wait(20s), 4) << rx.log();
  EXPECT_NE(rx.log().find("key manager unreachable"), std::string::npos) << rx.log();
}

TEST_F(Recv, NoPacketsExits3) {
  RecvProcess rx({"--keymgr", keymgr(), "--peer", "rx1", "--token", "rx1-lab-token", "--iface", "lo", "--join",
                  group(5) + ":" + std::to_string(free_port(SOCK_DGRAM)), "--channel", "1", "--timeout-ms", "300"},
                 dir_.path());
  EXPECT_EQ(rx.wait(20s), 3) << rx.log();
  EXPECT_NE(rx.log().find("no packets on"), std::string::npos) << rx.log();
}

TEST_F(Recv, BadArgumentsExit2) {
  RecvProcess rx({"--keymgr", keymgr(), "--peer", "rx1", "--token", "t", "--join", "239.255.1.1"}, dir_.path());
  EXPECT_EQ(rx.wait(10s), 2) << rx.log();
  RecvProcess rx2({"--peer", "rx1"}, dir_.path());
  EXPECT_EQ(rx2.wait(10s), 2) << rx2.log();
}

}  // namespace
}  // namespace keycast::test
