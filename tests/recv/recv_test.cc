// keycast-recv end to end: the real key manager (lab config, 1 s
// crypto-periods), ChannelSender (keys as gw1, pktparse::scramble; channel 1
// aes128-ctr raw payloads, channel 2 xor MPEG-TS payloads) to 239.255.x.y
// multicast on loopback with KEY_NOTICEs,
// and keycast-recv writing each channel to a file that must be byte-identical
// to what was sent, across key changes; the Prometheus endpoint's counters;
// a --config file in place of the flags.
// Plus the exit codes: not entitled (5), no key manager (4), no packets (3),
// bad arguments (2).
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <thread>

#include "channel_sender.h"
#include "keymgr_process.h"
#include "prom_scrape.h"
#include "recv_process.h"
#include "test_configs.h"

namespace keycast::test {
namespace {

using keymgr::test::KeymgrProcess;
using keymgr::test::TempDir;
using keymgr::test::free_port;
using namespace std::chrono_literals;

class Recv : public ::testing::Test {
 protected:
  void SetUp() override {
    keymgr::test::ConfigOptions o;
    o.lifetime_ms = 1000;
    km_ = KeymgrProcess::start(dir_.path(), keymgr::test::lab_config(o));
    ASSERT_TRUE(km_);
  }
  std::string keymgr() const { return "127.0.0.1:" + std::to_string(km_->port()); }

  TempDir dir_;
  std::unique_ptr<KeymgrProcess> km_;
};

TEST_F(Recv, DescramblesTwoChannelsByteIdenticalAcrossKeyChanges) {
  constexpr int kPerChannel = 600;
  const std::uint16_t port = free_port(SOCK_DGRAM);
  const auto out1 = dir_.path() / "ch1.bin";
  const auto out2 = dir_.path() / "ch2.ts";
  RecvProcess rx({"--keymgr", keymgr(), "--peer", "rx1", "--token", "rx1-lab-token", "--iface", "lo",
                  "--join", test_group(1) + ":" + std::to_string(port), "--join", test_group(2) + ":" + std::to_string(port),
                  "--channel", "1", "--channel", "2", "--out", out1.string(), "--out", out2.string(),
                  "--count", std::to_string(2 * kPerChannel), "--timeout-ms", "10000"},
                 dir_.path());
  ASSERT_TRUE(rx.wait_for_log("receiving on", 10s)) << rx.log();

  ChannelSender s1({{km_->port()}, 1, false, true, test_group(1), port});
  ChannelSender s2({{km_->port()}, 2, true, true, test_group(2), port});
  for (int i = 0; i < kPerChannel; ++i) {
    ASSERT_TRUE(s1.send_next());
    ASSERT_TRUE(s2.send_next());
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

TEST_F(Recv, MetricsEndpointCountsWhatItDid) {
  constexpr int kCount = 50;
  const std::uint16_t port = free_port(SOCK_DGRAM);
  RecvProcess rx({"--keymgr", keymgr(), "--peer", "rx1", "--token", "rx1-lab-token", "--iface", "lo", "--join",
                  test_group(6) + ":" + std::to_string(port), "--channel", "1", "--out",
                  (dir_.path() / "m.bin").string(), "--metrics-listen", "127.0.0.1:0"},
                 dir_.path());
  ASSERT_TRUE(rx.wait_for_log("receiving on", 10s)) << rx.log();
  std::smatch m;
  const std::string log = rx.log();
  ASSERT_TRUE(std::regex_search(log, m, std::regex(R"(metrics on http://127\.0\.0\.1:(\d+)/metrics)"))) << log;
  const auto mport = static_cast<std::uint16_t>(std::stoi(m[1]));

  ChannelSender s({{km_->port()}, 1, false, true, test_group(6), port});
  ASSERT_TRUE(s.send(kCount));
  using prom::test::value;
  const double want = kCount;
  // The endpoint's thread reads one family after another while the
  // receiver's thread may be adding the next round (ci30 under ASan:
  // written 50 beside received 44): wait for a body in which the app's and
  // the library's counters have both counted every datagram.
  const std::string body = prom::test::scrape_until(mport, [want](const std::string& b) {
    return value(b, "keycast_recv_written_total") == want &&
           value(b, "keycast_recv_events_total{event=\"descrambled\"}") == want;
  });
  EXPECT_EQ(value(body, "keycast_recv_written_total"), want) << body;
  EXPECT_EQ(value(body, "keycast_recv_socket_datagrams_total").value_or(0),
            want + value(body, "keycast_recv_events_total{event=\"notices\"}").value_or(-1))
      << body;
  EXPECT_EQ(value(body, "keycast_recv_events_total{event=\"descrambled\"}"), want) << body;
  EXPECT_EQ(value(body, "keycast_recv_events_total{event=\"dropped\"}"), 0.0) << body;
  EXPECT_EQ(value(body, "keycast_recv_drops_total{reason=\"hold_timeout\"}"), 0.0) << body;
  EXPECT_EQ(value(body, "keycast_recv_drops_total{reason=\"kc_bad_magic\"}"), 0.0) << body;
  EXPECT_GE(value(body, "keycast_recv_events_total{event=\"keys_fetched\"}").value_or(0), 1.0) << body;
  EXPECT_GE(value(body, "keycast_recv_fetches_answered_total").value_or(0), 1.0) << body;
  EXPECT_TRUE(value(body, "keycast_recv_fetch_latency_max_seconds")) << body;
  EXPECT_GT(value(body, "keycast_recv_first_clear_after_seconds").value_or(0), 0.0) << body;
}

TEST_F(Recv, ConfigFileInsteadOfFlags) {
  constexpr int kCount = 40;
  const std::uint16_t port = free_port(SOCK_DGRAM);
  const auto out = dir_.path() / "conf.bin";
  const auto conf = dir_.path() / "recv.toml";
  std::ofstream(conf) << "[keymgr]\nendpoints = [\"" << keymgr() << "\"]\npeer = \"rx1\"\ntoken = \"rx1-lab-token\"\n"
                      << "[receive]\niface = \"lo\"\ncount = " << kCount << "\ntimeout_ms = 10000\n"
                      << "[[join]]\ngroup = \"" << test_group(7) << ":" << port << "\"\nchannel = 1\nout = \""
                      << out.string() << "\"\n";
  RecvProcess rx({"--config", conf.string()}, dir_.path());
  ASSERT_TRUE(rx.wait_for_log("receiving on", 10s)) << rx.log();
  ChannelSender s({{km_->port()}, 1, false, true, test_group(7), port});
  ASSERT_TRUE(s.send(kCount));
  ASSERT_EQ(rx.wait(20s), 0) << rx.log();
  EXPECT_TRUE(read_file(out) == s.sent()) << rx.log();

  std::ofstream(conf) << "[keymgr]\nendpoints = [\"" << keymgr() << "\"]\npeer = \"rx1\"\ntoken = \"t\"\n"
                      << "[[join]]\ngroup = \"239.255.1.1:5000\"\nchanel = 1\n";
  RecvProcess bad({"--config", conf.string()}, dir_.path());
  EXPECT_EQ(bad.wait(10s), 2) << bad.log();
  EXPECT_NE(bad.log().find("recv.toml:7:1: unknown key 'chanel'"), std::string::npos) << bad.log();
}

TEST_F(Recv, NotEntitledExits5) {
  RecvProcess rx({"--keymgr", keymgr(), "--peer", "rx2", "--token", "rx2-lab-token", "--join",
                  test_group(3) + ":" + std::to_string(free_port(SOCK_DGRAM)), "--channel", "1", "--out",
                  (dir_.path() / "x").string()},
                 dir_.path());
  EXPECT_EQ(rx.wait(20s), 5) << rx.log();
  EXPECT_NE(rx.log().find("peer rx2 is not entitled to channel 1"), std::string::npos) << rx.log();
}

TEST_F(Recv, NoKeyManagerExits4) {
  RecvProcess rx({"--keymgr", "127.0.0.1:" + std::to_string(free_port(SOCK_STREAM)), "--peer", "rx1", "--token",
                  "rx1-lab-token", "--join", test_group(4) + ":" + std::to_string(free_port(SOCK_DGRAM)), "--channel", "1"},
                 dir_.path());
  EXPECT_EQ(rx.wait(20s), 4) << rx.log();
  EXPECT_NE(rx.log().find("key manager unreachable"), std::string::npos) << rx.log();
}

// Channels learned from the datagrams: the key manager connection is opened
// before the groups are joined; without one the receiver joins anyway, and
// says so.
TEST_F(Recv, LearnedChannelsConnectBeforeJoining) {
  const std::string warning = "no key manager answered yet";
  RecvProcess up({"--keymgr", keymgr(), "--peer", "rx1", "--token", "rx1-lab-token", "--iface", "lo", "--join",
                  test_group(5) + ":" + std::to_string(free_port(SOCK_DGRAM)), "--timeout-ms", "300"},
                 dir_.path());
  EXPECT_EQ(up.wait(20s), 3) << up.log();
  EXPECT_EQ(up.log().find(warning), std::string::npos) << up.log();

  RecvProcess down({"--keymgr", "127.0.0.1:" + std::to_string(free_port(SOCK_STREAM)), "--peer", "rx1", "--token",
                    "rx1-lab-token", "--iface", "lo", "--join",
                    test_group(5) + ":" + std::to_string(free_port(SOCK_DGRAM)), "--timeout-ms", "300"},
                   dir_.path());
  EXPECT_EQ(down.wait(20s), 3) << down.log();
  const auto warned = down.log().find(warning);
  ASSERT_NE(warned, std::string::npos) << down.log();
  EXPECT_LT(warned, down.log().find("receiving on")) << down.log();
}

TEST_F(Recv, NoPacketsExits3) {
  RecvProcess rx({"--keymgr", keymgr(), "--peer", "rx1", "--token", "rx1-lab-token", "--iface", "lo", "--join",
                  test_group(5) + ":" + std::to_string(free_port(SOCK_DGRAM)), "--channel", "1", "--timeout-ms", "300"},
                 dir_.path());
  EXPECT_EQ(rx.wait(20s), 3) << rx.log();
  EXPECT_NE(rx.log().find("no packets on"), std::string::npos) << rx.log();
}

TEST_F(Recv, BadArgumentsExit2) {
  RecvProcess rx({"--keymgr", keymgr(), "--peer", "rx1", "--token", "t", "--join", "239.255.1.1"}, dir_.path());
  EXPECT_EQ(rx.wait(10s), 2) << rx.log();
  RecvProcess rx2({"--peer", "rx1"}, dir_.path());
  EXPECT_EQ(rx2.wait(10s), 2) << rx2.log();
  RecvProcess rx3({"--keymgr", keymgr(), "--peer", "rx1", "--token", "t", "--join", "239.255.1.1:5000",
                   "--metrics-listen", "localhost"},
                  dir_.path());
  EXPECT_EQ(rx3.wait(10s), 2) << rx3.log();
  EXPECT_NE(rx3.log().find("--metrics-listen localhost"), std::string::npos) << rx3.log();
}

}  // namespace
}  // namespace keycast::test
