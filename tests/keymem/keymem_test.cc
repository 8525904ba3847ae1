// Issue 8, keys in memory: keycast-keymgr, keycast-gateway (scramble mode,
// net_pcap infinite_rx into net_null, --no-huge) and keycast-recv run
// through several 1-second crypto-periods while the test learns every key
// from the key manager (key_watch.h). Then each live process is stopped and
// its memory read through /proc (key_scan.h): the keys it has retired are
// nowhere (raw, expanded xor-inv pattern, last AES round key), the keys it
// still holds only in MADV_DONTDUMP mappings; and nothing any process wrote
// (logs, error messages) holds a key in raw, hex or base64 form.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/socket.h>

#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "channel_sender.h"
#include "frames.h"
#include "gateway_process.h"
#include "key_scan.h"
#include "key_watch.h"
#include "keymgr_process.h"
#include "recv_process.h"
#include "test_configs.h"

namespace keymem::test {
namespace {

using keymgr::test::KeymgrProcess;
using keymgr::test::TempDir;
using std::chrono::milliseconds;
using namespace std::chrono_literals;

constexpr std::uint32_t kLifetimeMs = 1000;
constexpr std::uint32_t kKeymgrGraceMs = 300;
constexpr auto kRecvGrace = 2000ms;  // ReceiverOptions::grace, keycast-recv's default

std::string keymgr_config() {
  keymgr::test::ConfigOptions o;
  o.lifetime_ms = kLifetimeMs;
  o.server_extra = "grace_ms = " + std::to_string(kKeymgrGraceMs) + "\n";
  return keymgr::test::lab_config(o);
}

// Channels 1 aes128-ctr, 2 xor (TS), 3 aes128-gcm, 4 xor-inv made by the
// gateway (KEY_GENERATE): every kind of key material the gateway prepares.
std::string gateway_config(std::uint16_t keymgr_port) {
  std::string s = "mode = \"scramble\"\n[ports]\ninput = 0\noutput = 1\nmbufs = 4095\n"
                  "[keys]\nendpoints = [\"127.0.0.1:" + std::to_string(keymgr_port) + "\"]\n"
                  "peer_id = \"gw1\"\ntoken = \"gw1-lab-token\"\nstartup_timeout_ms = 5000\n";
  auto channel = [&](int id, const char* suite, const char* payload, const std::string& extra) {
    s += "\n[[channel]]\nid = " + std::to_string(id) + "\ninput = \"239.1.1." + std::to_string(id) +
         ":5000\"\noutput = \"239.2.1." + std::to_string(id) + ":5000\"\nsuite = \"" + suite + "\"\npayload = \"" +
         payload + "\"\n" + extra;
  };
  channel(1, "aes128-ctr", "raw", "");
  channel(2, "xor", "ts", "");
  channel(3, "aes128-gcm", "raw", "");
  channel(4, "xor-inv", "ts", "origin = \"gateway\"\nkey_length = 64\nlifetime_ms = " + std::to_string(kLifetimeMs) + "\n");
  return s;
}

std::vector<gateway::test::Frame> gateway_input() {
  std::vector<gateway::test::Frame> frames;
  for (std::uint32_t i = 0; i < 8; ++i) {
    for (std::uint32_t ch = 1; ch <= 4; ++ch) {
      gateway::test::UdpSpec spec;
      spec.src = gateway::test::ip("10.0.0.1");
      spec.dst = gateway::test::ip("239.1.1." + std::to_string(ch));
      frames.push_back(gateway::test::udp_frame(
          spec, ch % 2 == 0 ? gateway::test::ts_payload(7, static_cast<std::uint8_t>(i), i * 10 + ch)
                            : gateway::test::raw_payload(1316, i * 10 + ch)));
    }
  }
  return frames;
}

// The gateway's "channel N: switched from key A to B" lines: (N, A, B).
struct Switch {
  std::uint32_t channel, from, to;
};
std::vector<Switch> switches(const std::string& log) {
  std::vector<Switch> out;
  static const std::regex re(R"(channel (\d+): switched from key (\d+) to (\d+))");
  for (std::sregex_iterator it(log.begin(), log.end(), re), end; it != end; ++it)
    out.push_back({static_cast<std::uint32_t>(std::stoul((*it)[1])), static_cast<std::uint32_t>(std::stoul((*it)[2])),
                   static_cast<std::uint32_t>(std::stoul((*it)[3]))});
  return out;
}

// k and the key after it, when the test has seen that one.
std::vector<const SeenKey*> key_or_next(const KeyWatch& w, const SeenKey& k) {
  std::vector<const SeenKey*> out = {&k};
  if (const auto it = w.keys().find({k.channel, k.key_id + 1}); it != w.keys().end()) out.push_back(&it->second);
  return out;
}

std::vector<const SeenKey*> all_keys(const KeyWatch& w) {
  std::vector<const SeenKey*> out;
  for (const auto& [id, k] : w.keys()) out.push_back(&k);
  return out;
}

// Keys the key manager itself has expired and wiped by now: replaced as
// current more than its grace (plus a margin for its 50 ms tick) ago.
KeyExpectations keymgr_expectations(const KeyWatch& w, const std::vector<std::uint32_t>& channels) {
  KeyExpectations e;
  const auto retired_before = Clock::now() - milliseconds(kKeymgrGraceMs) - 700ms;
  for (const SeenKey* k : all_keys(w)) {
    const auto replaced = w.replaced_at(*k);
    (replaced && *replaced <= retired_before ? e.retired : e.held).push_back(k);
  }
  for (const std::uint32_t ch : channels)
    if (const SeenKey* k = w.current(ch)) e.must_hold_one_of.push_back(key_or_next(w, *k));
  return e;
}

void expect_clean_logs(const std::vector<std::pair<std::string, std::string>>& logs,
                       const std::vector<const SeenKey*>& keys) {
  for (const auto& [name, text] : logs)
    for (const auto& hit : keys_in_log(name, text, keys)) ADD_FAILURE() << hit;
}

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

class KeyMemory : public ::testing::Test {
 protected:
  void SetUp() override {
    km_ = KeymgrProcess::start(dir_.path(), keymgr_config());
    ASSERT_TRUE(km_);
  }
  void TearDown() override { gateway::test::remove_runtime_dirs(); }

  // The key manager's memory, then its log (with extra keys of the test's).
  void check_keymgr(KeyWatch& w, const std::vector<std::uint32_t>& channels,
                    const std::vector<const SeenKey*>& extra_keys = {}) {
    w.poll();  // the keys current now
    const ScanOutcome scan = scan_until_settled(km_->pid(), keymgr_expectations(w, channels));
    EXPECT_TRUE(scan.clean()) << "keycast-keymgr: " << scan.report();
    std::cout << "keycast-keymgr: " << scan.report();
    auto keys = all_keys(w);
    keys.insert(keys.end(), extra_keys.begin(), extra_keys.end());
    expect_clean_logs({{"keycast-keymgr log", km_->log()}}, keys);
  }

  TempDir dir_;
  std::unique_ptr<KeymgrProcess> km_;
};

TEST_F(KeyMemory, GatewayAndKeyManagerWipeRetiredKeysAndKeepHeldOnesOutOfDumps) {
  const std::vector<std::uint32_t> channels = {1, 2, 3, 4};
  const auto in = dir_.path() / "in.pcap";
  gateway::test::write_pcap(in, gateway_input());
  std::ofstream(dir_.path() / "gateway.toml") << gateway_config(km_->port());
  auto args = gateway::test::eal_args({gateway::test::endless_input_vdev(in), "net_null0"});
  args.insert(args.end(), {"--", "--config", (dir_.path() / "gateway.toml").string()});
  gateway::test::GatewayChild gw(args);
  ASSERT_TRUE(gw.wait_for("worker 0 on lcore", 10s)) << gw.output();
  const pid_t pid = child_running(KEYCAST_GATEWAY_BIN);
  ASSERT_GT(pid, 0);

  // Two key changes per channel in the worker, the keys learned meanwhile.
  KeyWatch watch(km_->port(), channels);
  auto switched_twice = [&] {
    std::map<std::uint32_t, int> n;
    for (const Switch& s : switches(gw.output())) ++n[s.channel];
    for (const std::uint32_t ch : channels)
      if (n[ch] < 2) return false;
    return true;
  };
  const bool changed = watch.poll_until(
      [&] {
        gw.collect_for(50ms);
        return switched_twice();
      },
      15s);
  ASSERT_TRUE(changed) << gw.output();
  // A switch is logged before the old set is retired: give that a moment.
  const std::vector<Switch> done = switches(gw.output());
  gw.collect_for(400ms);
  watch.poll();

  KeyExpectations e;
  std::set<std::pair<std::uint32_t, std::uint32_t>> retired;
  std::map<std::uint32_t, std::uint32_t> current;
  for (const Switch& s : done) {
    retired.insert({s.channel, s.from});
    current[s.channel] = std::max(current[s.channel], s.to);
  }
  for (const SeenKey* k : all_keys(watch)) (retired.count({k->channel, k->key_id}) ? e.retired : e.held).push_back(k);
  for (const auto& [ch, id] : current) {
    const auto it = watch.keys().find({ch, id});
    ASSERT_NE(it, watch.keys().end()) << "channel " << ch << " key " << id << " was never seen at the key manager";
    e.must_hold_one_of.push_back(key_or_next(watch, it->second));
  }
  ASSERT_GE(e.retired.size(), 8u);
  const ScanOutcome scan = scan_until_settled(pid, e);
  EXPECT_TRUE(scan.clean()) << "keycast-gateway: " << scan.report();
  std::cout << "keycast-gateway: " << scan.report();

  // An error message about a key must not quote it: a KEY_PUSH that does not
  // fit channel 4 (16 bytes where it takes 64).
  SeenKey pushed{4, 1000, 2, Bytes(16), std::nullopt};
  std::random_device rd;
  for (auto& b : pushed.material) b = static_cast<std::uint8_t>(rd());
  {
    kmclient::ClientConfig c;
    c.endpoints.push_back({"127.0.0.1", km_->port()});
    c.role = kmproto::Role::gateway;
    c.peer_id = "gw1";
    c.auth_token = "gw1-lab-token";
    kmclient::KeymgrClient client(c);
    kmproto::KeyRecord r;
    r.channel_id = 4;
    r.key_id = pushed.key_id;
    r.suite = pushed.suite;
    r.lifetime_ms = kLifetimeMs;
    r.remaining_ms = kLifetimeMs;
    ASSERT_EQ(r.set_material(pushed.material), kmproto::Status::ok);
    const auto answer = client.push(std::span(&r, 1));
    ASSERT_FALSE(answer) << "the key manager took a key that does not fit the channel";
    expect_clean_logs({{"KEY_PUSH error", answer.error().message}}, {&pushed});
  }

  check_keymgr(watch, channels, {&pushed});
  const auto run = gw.finish(SIGTERM, 10s);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  expect_clean_logs({{"keycast-gateway output", run.output}}, all_keys(watch));
}

TEST_F(KeyMemory, ReceiverWipesRetiredKeysAndKeepsHeldOnesOutOfDumps) {
  const std::vector<std::uint32_t> channels = {1, 2};  // aes128-ctr raw, xor TS
  const std::uint16_t port = keymgr::test::free_port(SOCK_DGRAM);
  const std::string g1 = keycast::test::test_group(31), g2 = keycast::test::test_group(32);
  keycast::test::RecvProcess rx({"--keymgr", "127.0.0.1:" + std::to_string(km_->port()), "--peer", "rx1", "--token",
                                 "rx1-lab-token", "--iface", "lo", "--join", g1 + ":" + std::to_string(port), "--join",
                                 g2 + ":" + std::to_string(port), "--channel", "1", "--channel", "2", "--out",
                                 (dir_.path() / "ch1.bin").string(), "--out", (dir_.path() / "ch2.ts").string(),
                                 "--timeout-ms", "60000"},
                                dir_.path());
  ASSERT_TRUE(rx.wait_for_log("receiving on", 10s)) << rx.log();
  const pid_t pid = child_running(KEYCAST_RECV_BIN);
  ASSERT_GT(pid, 0);

  keycast::test::ChannelSender s1({{km_->port()}, 1, false, true, g1, port});
  keycast::test::ChannelSender s2({{km_->port()}, 2, true, true, g2, port});
  KeyWatch watch(km_->port(), channels);
  // Until each channel has two keys the receiver must have dropped: replaced
  // more than its grace (plus a margin) ago.
  auto retired_before = [] { return Clock::now() - kRecvGrace - 700ms; };
  auto two_retired = [&] {
    std::map<std::uint32_t, int> n;
    for (const SeenKey* k : all_keys(watch))
      if (const auto r = watch.replaced_at(*k); r && *r <= retired_before()) ++n[k->channel];
    return n[1] >= 2 && n[2] >= 2;
  };
  const bool changed = watch.poll_until(
      [&] {
        for (int i = 0; i < 10; ++i) {
          EXPECT_TRUE(s1.send_next());
          EXPECT_TRUE(s2.send_next());
          std::this_thread::sleep_for(5ms);
        }
        return two_retired();
      },
      20s);
  ASSERT_TRUE(changed);
  const auto last_sent = Clock::now();

  KeyExpectations e;
  const auto before = retired_before();
  for (const SeenKey* k : all_keys(watch)) {
    const auto r = watch.replaced_at(*k);
    (r && *r <= before ? e.retired : e.held).push_back(k);
  }
  // The newest key the senders used a while before the last datagram: the
  // receiver has switched to it and holds it still (current or previous).
  for (const std::uint32_t ch : channels) {
    const SeenKey* used = nullptr;
    for (const SeenKey* k : all_keys(watch))
      if (k->channel == ch && k->current_since && *k->current_since <= last_sent - 300ms &&
          (!used || k->key_id > used->key_id))
        used = k;
    ASSERT_NE(used, nullptr);
    e.must_hold_one_of.push_back(key_or_next(watch, *used));
  }
  const ScanOutcome scan = scan_until_settled(pid, e);
  EXPECT_TRUE(scan.clean()) << "keycast-recv: " << scan.report();
  std::cout << "keycast-recv: " << scan.report();
  EXPECT_GE(s1.switches(), 2);

  check_keymgr(watch, channels);
  ::kill(pid, SIGTERM);
  rx.wait(10s);
  expect_clean_logs({{"keycast-recv stderr", rx.log()}, {"keycast-recv stdout", read_text(dir_.path() / "recv.stdout")}},
                    all_keys(watch));
}

}  // namespace
}  // namespace keymem::test
