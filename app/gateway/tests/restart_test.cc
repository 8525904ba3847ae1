// A scrambling keycast-gateway killed and restarted never sends two DATA
// datagrams under the same (channel, key_id, seq), whatever its clock says:
// a continuous stream (net_pcap infinite_rx) scrambled into a pcap per run,
// the key manager's crypto-period long enough that every run scrambles
// channels 1 and 3 under the same keys, and seq_file set. Runs: SIGKILL mid-run
// then restart; the clock set back an hour (libfaketime), then forward, then
// right again; and the clock stepped back and forth while running. Every
// datagram out is a keycast datagram of a configured channel that descrambles
// with the key manager's key to one of the clear inputs (nothing clear).
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include "frames.h"
#include "gateway_process.h"
#include "key_cache.h"
#include "keymgr_process.h"
#include "pcap_file.h"
#include "pktparse/keycast_header.h"
#include "pktparse/net.h"
#include "pktparse/scramble.h"
#include "test_configs.h"

namespace gateway::test {
namespace {

using keymgr::test::KeymgrProcess;
using keymgr::test::TempDir;
using std::chrono::milliseconds;
using Bytes = std::vector<std::uint8_t>;
using ChannelKey = std::pair<std::uint32_t, std::uint32_t>;

constexpr const char* kFaketime = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";
constexpr std::uint32_t kLongLifetimeMs = 600000;  // channels 1 and 3: one key for the whole test
constexpr std::uint32_t kShortLifetimeMs = 1000;   // channel 2: switches while a run lasts
constexpr std::uint64_t kHourNs = 3'600'000'000'000ULL;
constexpr std::size_t kStrangers = 1000;

// The lab key manager with channel 2's crypto-period shortened.
std::string keymgr_config() {
  keymgr::test::ConfigOptions o;
  o.lifetime_ms = kLongLifetimeMs;
  std::string s = keymgr::test::lab_config(o);
  const std::string ch2 = "id = 2\nsuite = \"xor\"\nlifetime_ms = " + std::to_string(kLongLifetimeMs);
  s.replace(s.find(ch2), ch2.size(), "id = 2\nsuite = \"xor\"\nlifetime_ms = " + std::to_string(kShortLifetimeMs));
  return s;
}

std::string gateway_config(std::uint16_t keymgr_port, const std::filesystem::path& seq_file) {
  std::string s = "mode = \"scramble\"\nseq_file = \"" + seq_file.string() +
                  "\"\n[ports]\ninput = 0\noutput = 1\nmbufs = 16383\n"
                  "[keys]\nendpoints = [\"127.0.0.1:" + std::to_string(keymgr_port) + "\"]\n"
                  "peer_id = \"gw1\"\ntoken = \"gw1-lab-token\"\nstartup_timeout_ms = 5000\n";
  const char* suites[] = {"", "aes128-ctr", "xor", "aes128-gcm"};
  for (int ch = 1; ch <= 3; ++ch)
    s += "[[channel]]\nid = " + std::to_string(ch) + "\ninput = \"239.1.1." + std::to_string(ch) +
         ":5000\"\noutput = \"239.2.1." + std::to_string(ch) + ":5000\"\nsuite = \"" + suites[ch] +
         "\"\npayload = \"" + (ch == 2 ? "ts" : "raw") + "\"\n";
  return s;
}

// What one run put on the wire, per (channel, key_id) in the order sent.
struct Capture {
  std::map<ChannelKey, std::vector<std::uint64_t>> seqs;
  std::size_t datagrams = 0;
  std::vector<std::string> problems;
};

// Every seq under a key of `later` is above all of `earlier`'s under that
// key. Returns the (channel, key) pairs both used.
std::set<ChannelKey> expect_after(const Capture& earlier, const Capture& later, const std::string& what) {
  std::set<ChannelKey> shared;
  for (const auto& [ck, seqs] : later.seqs) {
    const auto before = earlier.seqs.find(ck);
    if (before == earlier.seqs.end()) continue;
    shared.insert(ck);
    const std::uint64_t last = *std::max_element(before->second.begin(), before->second.end());
    const std::uint64_t first = *std::min_element(seqs.begin(), seqs.end());
    EXPECT_GT(first, last) << what << ": channel " << ck.first << " key " << ck.second
                           << " reuses seqs: earlier run up to " << last << ", this one from " << first;
  }
  return shared;
}

double clock_behind_mark_s(const std::string& output) {
  std::smatch m;
  if (!std::regex_search(output, m, std::regex("the clock is ([0-9.]+) s behind the stored mark"))) return -1;
  return std::stod(m[1]);
}

class RestartLab : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(file("km"));
    km_ = KeymgrProcess::start(file("km"), keymgr_config());
    ASSERT_TRUE(km_);
    keys_ = std::make_unique<KeyCache>(km_->port());
    // Each channel datagram among kStrangers datagrams to no channel (dropped
    // as not_a_channel): a capture of some thousand datagrams per second.
    UdpSpec stranger;
    stranger.src = ip("10.0.0.1");
    stranger.dst = ip("239.1.1.9");
    const Frame other = udp_frame(stranger, raw_payload(18, 0));
    std::vector<Frame> frames;
    for (std::uint32_t i = 0; i < 2; ++i)
      for (std::uint32_t ch = 1; ch <= 3; ++ch) {
        frames.insert(frames.end(), kStrangers, other);
        Bytes payload = ch == 2 ? ts_payload(7, static_cast<std::uint8_t>(i), i) : raw_payload(200 + 16 * i, i * 10 + ch);
        UdpSpec spec;
        spec.src = ip("10.0.0.1");
        spec.dst = ip("239.1.1." + std::to_string(ch));
        frames.push_back(udp_frame(spec, payload));
        clear_[ch].emplace(payload.begin(), payload.end());
      }
    write_pcap(file("in.pcap"), frames);
    write_pcap(file("empty.pcap"), {});
  }
  void TearDown() override { remove_runtime_dirs(); }

  std::filesystem::path file(const std::string& name) const { return dir_.path() / name; }
  static bool have_faketime() { return std::filesystem::exists(kFaketime); }
  static std::vector<std::string> faketime(const std::string& spec_or_file_env) {
    return {std::string("LD_PRELOAD=") + kFaketime, spec_or_file_env, "FAKETIME_DONT_FAKE_MONOTONIC=1"};
  }

  // A gateway on the stream into run-NAME.pcap: once it scrambles, runs for
  // `scramble_for` (calling during(), if given, half way), then gets
  // stop_signal. Returns what it sent; its exit and output in *result.
  // Channel 2's keys are taken as they come (gone soon after they end).
  Capture run(const std::string& name, int stop_signal, milliseconds scramble_for, const std::vector<std::string>& env,
              GatewayRun* result, const std::function<void()>& during = {}) {
    const std::filesystem::path out = file("run-" + name + ".pcap");
    std::ofstream(file("gateway.toml")) << gateway_config(km_->port(), file("gw1.seq"));
    auto args = eal_args({endless_input_vdev(file("in.pcap")),
                          "net_pcap1,rx_pcap=" + file("empty.pcap").string() + ",tx_pcap=" + out.string()});
    args.insert(args.end(), {"--", "--config", file("gateway.toml").string()});
    GatewayChild child(args, env);
    // Channel 2's keys last 1 s: each is taken while it is current, from the
    // gateway's start on (a slow start outlasted key 1 once, whose frames then
    // could not be decoded: the key manager serves no key older than previous).
    bool started = false;
    for (int tries = 0; tries < 75 && !started; ++tries) {
      keys_->take_current(2, pktparse::Suite::xor_pattern);
      started = child.wait_for("scrambling:", milliseconds(200));
    }
    EXPECT_TRUE(started) << name << ":\n" << child.output();
    const auto start = std::chrono::steady_clock::now();
    bool halfway = false;
    for (auto ran = milliseconds(0); ran < scramble_for;
         ran = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - start)) {
      keys_->take_current(2, pktparse::Suite::xor_pattern);
      if (!halfway && ran >= scramble_for / 2 && during) during();
      halfway = ran >= scramble_for / 2;
      (void)child.collect_for(std::min(milliseconds(200), scramble_for - ran));
    }
    *result = child.finish(stop_signal, milliseconds(15000));
    keys_->take_current(2, pktparse::Suite::xor_pattern);
    EXPECT_EQ(result->exit_code, stop_signal == SIGKILL ? 128 + SIGKILL : 0) << name << ":\n" << result->output;
    return decode(read_pcap(out, stop_signal == SIGKILL), name);
  }

  Capture decode(const std::vector<Frame>& frames, const std::string& name) {
    Capture c;
    auto problem = [&](std::size_t i, const std::string& what) {
      if (c.problems.size() < 10) c.problems.push_back(name + " frame " + std::to_string(i) + ": " + what);
    };
    for (std::size_t i = 0; i < frames.size(); ++i) {
      Frame f = frames[i];
      pktparse::PacketView v;
      if (pktparse::parse_frame(f, v) != pktparse::Status::ok) {
        problem(i, "does not parse");
        continue;
      }
      const std::uint32_t ch = v.dst.bytes[3];
      if (v.dst.family != 4 || v.dst.bytes[0] != 239 || v.dst.bytes[1] != 2 || v.dst.bytes[2] != 1 || ch < 1 ||
          ch > 3 || v.dst_port != 5000) {
        problem(i, "not to a channel's output group (sent clear?)");
        continue;
      }
      std::span<std::uint8_t> udp(f.data() + v.payload_offset, v.payload_len);
      pktparse::KcHeader h;
      if (pktparse::parse_header(udp, h) != pktparse::Status::ok || h.channel_id != ch) {
        problem(i, "no keycast header of channel " + std::to_string(ch));
        continue;
      }
      if (h.type == pktparse::MsgType::key_notice) continue;
      const Bytes wire(udp.begin() + h.hdr_len, udp.end());
      std::string why;
      pktparse::PreparedKey* key = keys_->get(ch, h.key_id, h.suite, why);
      std::span<std::uint8_t> clear;
      if (!key || pktparse::descramble(*key, h, udp, clear) != pktparse::Status::ok) {
        problem(i, "does not descramble with key " + std::to_string(h.key_id) + " " + why);
        continue;
      }
      const Bytes opened(clear.begin(), clear.end());
      if (!clear_[ch].count(std::string(opened.begin(), opened.end()))) problem(i, "descrambles to no input payload");
      if (wire == opened) problem(i, "payload sent clear");
      c.seqs[{ch, h.key_id}].push_back(h.seq);
      ++c.datagrams;
    }
    for (const auto& [ck, seqs] : c.seqs)
      for (std::size_t i = 1; i < seqs.size(); ++i)
        if (seqs[i] <= seqs[i - 1]) {
          c.problems.push_back(name + ": channel " + std::to_string(ck.first) + " key " + std::to_string(ck.second) +
                               ": seq " + std::to_string(seqs[i]) + " sent after " + std::to_string(seqs[i - 1]));
          break;
        }
    return c;
  }

  // A run that scrambled every channel, cleanly.
  void expect_sound(const Capture& c, const GatewayRun& r) {
    for (const auto& p : c.problems) ADD_FAILURE() << p;
    std::set<std::uint32_t> channels;
    for (const auto& [ck, seqs] : c.seqs) channels.insert(ck.first);
    EXPECT_EQ(channels, (std::set<std::uint32_t>{1, 2, 3})) << r.output;
    EXPECT_EQ(r.output.find("seq_not_reserved"), std::string::npos) << r.output;
  }

  TempDir dir_;
  std::unique_ptr<KeymgrProcess> km_;
  std::unique_ptr<KeyCache> keys_;
  std::map<std::uint32_t, std::set<std::string>> clear_;  // the input payloads per channel, as bytes
};

TEST_F(RestartLab, KilledAndRestartedNeverRepeatsASeqUnderAKey) {
  GatewayRun killed, again;
  const Capture a = run("killed", SIGKILL, milliseconds(400), {}, &killed);
  const Capture b = run("again", SIGTERM, milliseconds(400), {}, &again);
  expect_sound(a, killed);
  expect_sound(b, again);
  EXPECT_NE(killed.output.find("no mark yet (first start): seq starts at the clock"), std::string::npos)
      << killed.output;
  // Restarted within seconds: the mark, a block ahead of the first start, decides.
  EXPECT_NE(again.output.find("seq starts at the stored mark"), std::string::npos) << again.output;
  const auto shared = expect_after(a, b, "restart after SIGKILL");
  EXPECT_TRUE(shared.count({1, 1}) && shared.count({3, 1})) << "both runs must scramble channels 1 and 3 under key 1";
  EXPECT_EQ(std::filesystem::status(file("gw1.seq")).permissions(),
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

// Set back an hour, the clock is behind seqs already used: the mark decides.
// Set forward, seq follows the clock and keys still switch on the key
// manager's remaining times; back to the right time, the mark decides again.
TEST_F(RestartLab, ClockSetBackOrForwardAtRestart) {
  if (!have_faketime()) GTEST_SKIP() << kFaketime << " missing: apt-get install faketime (scripts/install-deps)";
  GatewayRun r1, r2, r3, r4;
  const Capture now = run("now", SIGKILL, milliseconds(400), {}, &r1);
  const Capture back = run("back", SIGKILL, milliseconds(400), faketime("FAKETIME=-1h"), &r2);
  const Capture ahead = run("ahead", SIGTERM, milliseconds(2200), faketime("FAKETIME=+1h"), &r3);
  const Capture right = run("right", SIGTERM, milliseconds(400), {}, &r4);
  for (const auto& [c, r] : {std::pair{&now, &r1}, {&back, &r2}, {&ahead, &r3}, {&right, &r4}}) expect_sound(*c, *r);

  EXPECT_GT(clock_behind_mark_s(r2.output), 3590) << r2.output;
  const auto shared = expect_after(now, back, "clock set back 1 h");
  EXPECT_TRUE(shared.count({1, 1}) && shared.count({3, 1})) << "both runs must scramble channels 1 and 3 under key 1";

  EXPECT_NE(r3.output.find("above the stored mark"), std::string::npos) << r3.output;
  (void)expect_after(back, ahead, "clock set forward 1 h");
  EXPECT_GT(ahead.seqs.at({1, 1}).front(), back.seqs.at({1, 1}).back() + kHourNs - 60 * 1'000'000'000ULL)
      << "seq follows the clock set forward";
  std::set<std::uint32_t> ch2_keys;
  for (const auto& [ck, seqs] : ahead.seqs)
    if (ck.first == 2) ch2_keys.insert(ck.second);
  EXPECT_GE(ch2_keys.size(), 2U) << "channel 2 (1 s keys) switched while the clock was an hour ahead\n" << r3.output;

  EXPECT_GT(clock_behind_mark_s(r4.output), 3590) << r4.output;
  (void)expect_after(ahead, right, "clock right again");
}

// While running the gateway never reads the wall clock again (clock.h): steps
// of 2 h back then forward neither repeat a seq nor stall channel 2's key
// switches. The step file is libfaketime's, read at every clock call.
TEST_F(RestartLab, ClockStepsWhileRunning) {
  if (!have_faketime()) GTEST_SKIP() << kFaketime << " missing: apt-get install faketime (scripts/install-deps)";
  const std::filesystem::path step = file("faketime-step");
  auto set_clock = [&](const char* offset) {  // whole, never half-written
    std::ofstream(file("faketime-step.new")) << offset << "\n";
    std::filesystem::rename(file("faketime-step.new"), step);
  };
  set_clock("+1h");
  const auto real_ns = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                      std::chrono::system_clock::now().time_since_epoch())
                                                      .count());
  auto env = faketime("FAKETIME_TIMESTAMP_FILE=" + step.string());
  env.push_back("FAKETIME_NO_CACHE=1");
  GatewayRun r;
  const Capture c = run("steps", SIGTERM, milliseconds(2400), env, &r, [&] {
    set_clock("-1h");
    std::this_thread::sleep_for(milliseconds(600));
    set_clock("+0");
  });
  expect_sound(c, r);
  const std::uint64_t first = c.seqs.at({1, 1}).front();
  EXPECT_GT(first, real_ns + kHourNs - 60 * 1'000'000'000ULL) << "the step file's +1h applied at start";
  std::set<std::uint32_t> ch2_keys;
  for (const auto& [ck, seqs] : c.seqs)
    if (ck.first == 2) ch2_keys.insert(ck.second);
  EXPECT_GE(ch2_keys.size(), 3U) << "channel 2 (1 s keys) kept switching\n" << r.output;
}

}  // namespace
}  // namespace gateway::test
