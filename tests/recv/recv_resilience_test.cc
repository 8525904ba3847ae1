// keycast-recv when things go wrong around it, end to end (real key manager,
// ChannelSender, loopback multicast): a late join mid crypto-period with the
// channel learned from the datagrams, KEY_NOTICEs filtered out by the sender,
// the key manager killed (-9) and restarted on the same state dir and port,
// and the master killed with a replica to fail over to. Each checks that the
// output is byte-identical to what was sent while the receiver was joined:
// no datagram lost, none altered.
#include <signal.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <thread>

#include "channel_sender.h"
#include "keymgr_process.h"
#include "recv_process.h"
#include "test_configs.h"

namespace keycast::test {
namespace {

using keymgr::test::ConfigOptions;
using keymgr::test::KeymgrProcess;
using keymgr::test::TempDir;
using keymgr::test::free_port;
using namespace std::chrono_literals;

std::string at(std::uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

std::vector<std::string> recv_args(const std::vector<std::uint16_t>& keymgr_ports, const std::string& join,
                                   const std::filesystem::path& out, std::size_t count) {
  std::vector<std::string> a;
  for (const auto p : keymgr_ports) a.insert(a.end(), {"--keymgr", at(p)});
  a.insert(a.end(), {"--peer", "rx1", "--token", "rx1-lab-token", "--iface", "lo", "--join", join, "--out",
                     out.string(), "--count", std::to_string(count), "--timeout-ms", "20000",
                     // Generous: a hold may span a key manager outage; the test asserts no drop.
                     "--hold-timeout-ms", "10000"});
  return a;
}

// The counter line "  NAME VALUE" of keycast-recv's exit report, or -1.
long long counter(const std::string& log, const std::string& name) {
  const auto at = log.rfind("\n  " + name + " ");
  return at == std::string::npos ? -1 : std::stoll(log.substr(at + 4 + name.size()));
}

// Waits for keycast-recv's exit and checks zero loss, byte for byte.
void expect_identical(RecvProcess& rx, const std::filesystem::path& out, const Bytes& sent) {
  const int code = rx.wait(60s);
  const std::string log = rx.log();
  ASSERT_EQ(code, 0) << log;
  const Bytes got = read_file(out);
  EXPECT_EQ(got.size(), sent.size()) << log;
  EXPECT_TRUE(got == sent) << "output differs from what was sent\n" << log;
  EXPECT_EQ(counter(log, "dropped"), 0) << log;
}

// Waits until `out` holds `bytes` bytes (keycast-recv released what it held).
bool wait_for_output(const std::filesystem::path& out, std::size_t bytes) {
  for (int i = 0; i < 2000; ++i) {
    std::error_code ec;
    if (std::filesystem::file_size(out, ec) >= bytes && !ec) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

class RecvResilience : public ::testing::Test {
 protected:
  TempDir dir_;
  const std::uint16_t port_ = free_port(SOCK_DGRAM);
  std::string join(int n) const { return test_group(n) + ":" + std::to_string(port_); }
};

// Joins 0.4 s into a 2 s crypto-period without --channel: the first
// datagrams are held while channel 2's keys are fetched, then released in
// order; later key changes follow.
TEST_F(RecvResilience, LateJoinMidPeriodLearnsTheChannel) {
  ConfigOptions o;
  o.lifetime_ms = 2000;
  auto km = KeymgrProcess::start(dir_.path(), keymgr::test::lab_config(o));
  ASSERT_TRUE(km);
  ChannelSender s({{km->port()}, 2, true, true, test_group(1), port_});
  ASSERT_TRUE(s.send(100));  // nobody joined yet

  constexpr int kJoined = 600;
  const auto out = dir_.path() / "late.ts";
  RecvProcess rx(recv_args({km->port()}, join(1), out, kJoined), dir_.path());
  ASSERT_TRUE(rx.wait_for_log("receiving on", 10s)) << rx.log();
  const std::size_t mark = s.sent().size();
  ASSERT_TRUE(s.send(5));
  ASSERT_TRUE(wait_for_output(out, s.sent().size() - mark)) << rx.log();
  ASSERT_TRUE(s.send(kJoined - 5));
  expect_identical(rx, out, s.sent_since(mark));
  EXPECT_GE(counter(rx.log(), "held"), 1) << rx.log();
  EXPECT_GE(s.switches(), 2) << "expected a key change while joined";
}

// No KEY_NOTICE reaches the receiver: it must follow the key changes by
// fetching at Y and, failing that, by key id.
TEST_F(RecvResilience, LostNoticesStillFollowKeyChanges) {
  ConfigOptions o;
  o.lifetime_ms = 700;
  auto km = KeymgrProcess::start(dir_.path(), keymgr::test::lab_config(o));
  ASSERT_TRUE(km);
  constexpr int kCount = 600;
  const auto out = dir_.path() / "nonotice.bin";
  RecvProcess rx({"--keymgr", at(km->port()), "--peer", "rx1", "--token", "rx1-lab-token", "--iface", "lo", "--join",
                  join(2), "--channel", "1", "--out", out.string(), "--count", std::to_string(kCount),
                  "--timeout-ms", "20000", "--hold-timeout-ms", "10000"},
                 dir_.path());
  ASSERT_TRUE(rx.wait_for_log("receiving on", 10s)) << rx.log();
  ChannelSender s({{km->port()}, 1, false, /*notices=*/false, test_group(2), port_});
  ASSERT_TRUE(s.send(kCount));
  expect_identical(rx, out, s.sent());
  EXPECT_EQ(s.notices_sent(), 0u);
  EXPECT_EQ(counter(rx.log(), "notices"), 0) << rx.log();
  EXPECT_GE(s.switches(), 3) << "expected at least two key changes";
}

// kill -9 of the key manager mid-stream, restarted on the same state dir and
// port: the receiver keeps its keys through the outage and fetches the
// following ones from the restarted key manager.
TEST_F(RecvResilience, KeymgrKilledAndRestarted) {
  ConfigOptions o;
  o.lifetime_ms = 1000;
  o.server_extra = "grace_ms = 5000\n";
  const std::uint16_t kport = free_port();
  const std::string config = keymgr::test::with_port(keymgr::test::lab_config(o), kport);
  auto km = KeymgrProcess::start(dir_.path(), config);
  ASSERT_TRUE(km);
  constexpr int kBefore = 150, kOutage = 25, kAfter = 700;
  const auto out = dir_.path() / "restart.ts";
  RecvProcess rx(recv_args({kport}, join(3), out, kBefore + kOutage + kAfter), dir_.path());
  ASSERT_TRUE(rx.wait_for_log("receiving on", 10s)) << rx.log();
  ChannelSender s({{kport}, 2, true, true, test_group(3), port_});
  ASSERT_TRUE(s.send(kBefore));
  const auto state = km->state_dir();
  km->stop(SIGKILL);
  km.reset();
  ASSERT_TRUE(s.send(kOutage));  // on the key it has
  EXPECT_GE(s.failed_polls(), 1u) << "the sender should have seen the outage";
  km = KeymgrProcess::start(dir_.path(), config, state);
  ASSERT_TRUE(km);
  const int switches_before = s.switches();
  ASSERT_TRUE(s.send(kAfter));
  expect_identical(rx, out, s.sent());
  EXPECT_GE(s.switches() - switches_before, 2) << "expected key changes after the restart";
}

// The master dies; a receiver already running and one started afterwards
// (master first in its list) get their keys from the replica.
TEST_F(RecvResilience, FailoverToReplica) {
  TempDir rdir;
  ConfigOptions o;
  o.lifetime_ms = 1500;
  o.server_extra = "grace_ms = 5000\n";
  const std::uint16_t mport = free_port();
  auto master = KeymgrProcess::start(dir_.path(), keymgr::test::master_config(mport, o));
  ASSERT_TRUE(master);
  auto replica = KeymgrProcess::start(rdir.path(), keymgr::test::replica_config(mport, o));
  ASSERT_TRUE(replica);
  // The replica has caught up once it serves the master's current key.
  auto current = [](std::uint16_t port) -> std::uint32_t {
    kmclient::ClientConfig c;
    c.endpoints.push_back({"127.0.0.1", port});
    c.peer_id = "rx1";
    c.auth_token = "rx1-lab-token";
    kmclient::KeymgrClient km(c);
    const auto recs = km.request_keys(1);
    if (recs) {
      for (const auto& r : *recs)
        if (r.state == kmproto::KeyState::current) return r.key_id;
    }
    return 0;
  };
  bool caught_up = false;
  for (int i = 0; i < 200 && !caught_up; ++i) {
    const auto m = current(mport);
    caught_up = m != 0 && current(replica->port()) == m;
    if (!caught_up) std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(caught_up) << replica->log();

  const std::vector<std::uint16_t> both{mport, replica->port()};
  constexpr int kBefore = 150, kAfter = 300;
  const auto out_a = dir_.path() / "a.bin", out_b = dir_.path() / "b.bin";
  RecvProcess rx_a(recv_args(both, join(4), out_a, kBefore + kAfter), dir_.path());
  ASSERT_TRUE(rx_a.wait_for_log("receiving on", 10s)) << rx_a.log();
  ChannelSender s({both, 1, false, true, test_group(4), port_});
  ASSERT_TRUE(s.send(kBefore));
  master->stop(SIGKILL);
  master.reset();

  const auto b_dir = dir_.path() / "b";
  std::filesystem::create_directory(b_dir);
  RecvProcess rx_b(recv_args(both, join(4), out_b, kAfter), b_dir);
  ASSERT_TRUE(rx_b.wait_for_log("receiving on", 20s)) << rx_b.log();
  const std::size_t mark = s.sent().size();
  ASSERT_TRUE(s.send(kAfter));
  expect_identical(rx_a, out_a, s.sent());
  expect_identical(rx_b, out_b, s.sent_since(mark));
}

}  // namespace
}  // namespace keycast::test
