// keycast-gateway end to end on net_pcap ports without hugepages, against
// the real key manager: clear datagrams in, scrambled datagrams out, each
// descrambled with the key the key manager holds for its key_id; fail-closed
// start without a key manager; key switches under a continuous stream.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "frames.h"
#include "gateway_process.h"
#include "key_cache.h"
#include "keymgr_process.h"
#include "kmclient/client.h"
#include "pcap_file.h"
#include "tap_capture.h"
#include "config/gateway_config.h"
#include "pktparse/checksum.h"
#include "pktparse/key.h"
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

constexpr std::uint8_t kTtl = 16;

// The lab key manager plus channel 5 (aes128-ctr) for the IPv6 input.
std::string keymgr_config(std::uint32_t lifetime_ms, keymgr::test::ConfigOptions o = {}) {
  o.lifetime_ms = lifetime_ms;
  std::string s = keymgr::test::lab_config(o);
  const std::string gw = "channels = [1, 2, 3, 4]\nfeeds";
  const auto at = s.find(gw);
  if (at != std::string::npos) s.replace(at, gw.size(), "channels = [1, 2, 3, 4, 5]\nfeeds");
  s += "\n[[channel]]\nid = 5\nsuite = \"aes128-ctr\"\nlifetime_ms = " + std::to_string(lifetime_ms) + "\n";
  return s;
}

// Channel 4 is of origin "gateway" (KEY_GENERATE by the gateway): served
// only once the config loader reads `origin`; until then it is left out.
bool loader_reads_origin() {
  try {
    (void)load_gateway_config_string(
        "mode = \"scramble\"\n[ports]\ninput = 0\noutput = 1\n[keys]\nendpoints = [\"127.0.0.1:1\"]\npeer_id = \"gw1\"\ntoken = \"t\"\n[[channel]]\nid = 4\n"
        "input = \"239.1.1.4:5000\"\noutput = \"239.2.1.4:5000\"\nsuite = \"xor-inv\"\norigin = \"gateway\"\n"
        "key_length = 64\nlifetime_ms = 1000\n",
        "probe");
    return true;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "note: leaving channel 4 (origin gateway) out: %s\n", e.what());
    return false;
  }
}

// Stops process pid for `stopped` (SIGSTOP, then SIGCONT) and returns what
// the gateway prints in the 4 s after.
std::string output_after_stopping(GatewayChild& gw, pid_t pid, milliseconds stopped) {
  EXPECT_EQ(::kill(pid, SIGSTOP), 0);
  std::this_thread::sleep_for(stopped);
  EXPECT_EQ(::kill(pid, SIGCONT), 0);
  const std::size_t resumed = gw.output().size();
  (void)gw.collect_for(milliseconds(4000));
  return gw.output().substr(resumed);
}

std::vector<std::uint32_t> channel_ids() {
  static const bool with4 = loader_reads_origin();
  if (with4) return {1, 2, 3, 4, 5};
  return {1, 2, 3, 5};
}

std::string gateway_config(std::uint16_t keymgr_port, std::uint32_t lifetime_ms, std::uint32_t startup_timeout_ms) {
  std::string s =
      "mode = \"scramble\"\n"
      "[ports]\ninput = 0\noutput = 1\nmbufs = 4095\n"
      "[keys]\nendpoints = [\"127.0.0.1:" + std::to_string(keymgr_port) + "\"]\n"
      "peer_id = \"gw1\"\ntoken = \"gw1-lab-token\"\n"
      "connect_timeout_ms = 500\nrequest_timeout_ms = 2000\n"
      "startup_timeout_ms = " + std::to_string(startup_timeout_ms) + "\n";
  auto channel = [&](int id, const std::string& in, const std::string& out, const char* suite, const char* payload,
                     const std::string& extra) {
    s += "\n[[channel]]\nid = " + std::to_string(id) + "\ninput = \"" + in + "\"\noutput = \"" + out +
         "\"\nttl = " + std::to_string(kTtl) + "\nsuite = \"" + suite + "\"\npayload = \"" + payload + "\"\n" + extra;
  };
  channel(1, "239.1.1.1:5000", "239.2.1.1:5000", "aes128-ctr", "raw", "tlv_keymgr_addr = true\n");
  channel(2, "239.1.1.2:5000", "239.2.1.2:5000", "xor", "ts", "");
  channel(3, "239.1.1.3:5000", "239.2.1.3:5000", "aes128-gcm", "raw", "udp_checksum = false\n");
  if (channel_ids().size() == 5)
    channel(4, "239.1.1.4:5000", "239.2.1.4:5000", "xor-inv", "ts",
            "origin = \"gateway\"\nkey_length = 64\nlifetime_ms = " + std::to_string(lifetime_ms) + "\n");
  channel(5, "[ff3e::1:5]:5000", "[ff3e::2:5]:5000", "aes128-ctr", "raw", "");
  return s;
}

struct Input {
  std::vector<Frame> frames;
  std::map<std::uint32_t, std::vector<Bytes>> expected;  // clear payloads per channel, in order
  std::size_t strangers = 0;                             // datagrams to no channel
};

UdpSpec to(const pktparse::IpAddr& src, const std::string& group, std::uint16_t port = 5000) {
  UdpSpec s;
  s.src = src;
  s.dst = ip(group);
  s.dst_port = port;
  return s;
}

// Channels 1-5 round robin (TS on 2 and 4, IPv6 on 5), a VLAN-tagged and a
// padded short datagram on channel 1, two datagrams to no channel.
Input make_input(std::size_t per_channel) {
  Input in;
  const auto src4 = ip("10.0.0.1");
  const auto src6 = ip("2001:db8::1");
  for (std::size_t i = 0; i < per_channel; ++i) {
    for (const std::uint32_t ch : channel_ids()) {
      const auto seed = static_cast<std::uint32_t>(i * 10 + ch);
      Bytes payload = (ch == 2 || ch == 4) ? ts_payload(7, static_cast<std::uint8_t>(i), seed, /*with_pat=*/i % 2 == 0)
                                           : raw_payload(100 + (i * 97 + ch * 13) % 1200, seed);
      UdpSpec spec;
      spec.src = ch == 5 ? src6 : src4;
      spec.dst = ch == 5 ? ip("ff3e::1:5") : ip("239.1.1." + std::to_string(ch));
      if (ch == 1 && i == 1) spec.vlan = 100;
      in.frames.push_back(udp_frame(spec, payload));
      in.expected[ch].push_back(std::move(payload));
    }
    if (i == 2) {
      const UdpSpec spec = to(src4, "239.1.1.1");
      const Bytes tiny = {1, 2, 3, 4};
      Frame f = udp_frame(spec, tiny);
      f.resize(60, 0);  // Ethernet padding after the datagram
      in.frames.push_back(f);
      in.expected[1].push_back(tiny);
      in.frames.push_back(udp_frame(to(src4, "239.1.1.9"), raw_payload(200, 1)));
      in.frames.push_back(udp_frame(to(src4, "239.1.1.1", 6000), raw_payload(200, 2)));
      in.strangers += 2;
    }
  }
  return in;
}

// What the output pcap held, descrambled.
struct Decoded {
  std::map<std::uint32_t, std::vector<Bytes>> clear;  // per channel, in order
  std::size_t notices = 0;
  std::set<std::uint32_t> key_ids;
  std::vector<std::string> problems;
};

std::uint32_t output_channel(const pktparse::PacketView& v) {
  if (v.dst_port != 5000) return 0;
  if (v.dst.family == 4 && v.dst.bytes[0] == 239 && v.dst.bytes[1] == 2 && v.dst.bytes[2] == 1) return v.dst.bytes[3];
  if (v.dst.family == 6 && std::memcmp(v.dst.bytes, ip("ff3e::2:5").bytes, 16) == 0) return 5;
  return 0;
}

Decoded decode(const std::vector<Frame>& frames, KeyCache& keys) {
  Decoded d;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    Frame f = frames[i];
    const std::string at = "frame " + std::to_string(i) + ": ";
    pktparse::PacketView v;
    if (const auto s = pktparse::parse_frame(f, v); s != pktparse::Status::ok) {
      d.problems.push_back(at + pktparse::status_text(s));
      continue;
    }
    const std::uint32_t ch = output_channel(v);
    if (!ch) {
      d.problems.push_back(at + "not to an output group");
      continue;
    }
    const std::uint8_t mac[6] = {
        v.ip_version == 4 ? std::uint8_t{0x01} : std::uint8_t{0x33}, v.ip_version == 4 ? std::uint8_t{0x00} : std::uint8_t{0x33},
        v.ip_version == 4 ? std::uint8_t{0x5e} : v.dst.bytes[12],
        v.ip_version == 4 ? static_cast<std::uint8_t>(v.dst.bytes[1] & 0x7f) : v.dst.bytes[13],
        v.ip_version == 4 ? v.dst.bytes[2] : v.dst.bytes[14], v.ip_version == 4 ? v.dst.bytes[3] : v.dst.bytes[15]};
    if (std::memcmp(f.data(), mac, 6) != 0) d.problems.push_back(at + "destination MAC is not the group's");
    if (v.ttl != kTtl) d.problems.push_back(at + "TTL " + std::to_string(v.ttl));
    if (v.ip_version == 4 && !pktparse::ipv4_checksum_ok(f.data() + v.l3_offset))
      d.problems.push_back(at + "IPv4 checksum");
    if (!pktparse::udp_checksum_ok(f.data() + v.l3_offset, f.data() + v.l4_offset))
      d.problems.push_back(at + "UDP checksum");
    // Channel 3 is configured without one; the others have one.
    if ((ch == 3) != (f[v.l4_offset + 6] == 0 && f[v.l4_offset + 7] == 0))
      d.problems.push_back(at + (ch == 3 ? "UDP checksum not 0 (udp_checksum = false)" : "UDP checksum 0"));
    std::span<std::uint8_t> udp(f.data() + v.payload_offset, v.payload_len);
    pktparse::KcHeader h;
    if (const auto s = pktparse::parse_header(udp, h); s != pktparse::Status::ok) {
      d.problems.push_back(at + "keycast header: " + pktparse::status_text(s));
      continue;
    }
    if (h.channel_id != ch) d.problems.push_back(at + "channel_id " + std::to_string(h.channel_id));
    if (h.type == pktparse::MsgType::key_notice) {
      ++d.notices;
      if (h.next_key_id != h.key_id + 1) d.problems.push_back(at + "notice announces a key that does not follow");
      continue;
    }
    d.key_ids.insert(h.key_id);
    std::string why;
    pktparse::PreparedKey* key = keys.get(ch, h.key_id, h.suite, why);
    if (!key) {
      d.problems.push_back(at + "key " + std::to_string(h.key_id) + ": " + why);
      continue;
    }
    std::span<std::uint8_t> clear;
    if (const auto s = pktparse::descramble(*key, h, udp, clear); s != pktparse::Status::ok) {
      d.problems.push_back(at + "descramble: " + pktparse::status_text(s));
      continue;
    }
    d.clear[ch].emplace_back(clear.begin(), clear.end());
  }
  return d;
}

// No problem in the decoded output, and every channel's clear payloads in order.
void expect_input_back(const Input& in, const Decoded& d, const std::string& gateway_output) {
  for (const auto& p : d.problems) ADD_FAILURE() << p;
  for (const std::uint32_t ch : channel_ids()) {
    const auto& want = in.expected.at(ch);
    const auto got = d.clear.count(ch) ? d.clear.at(ch) : std::vector<Bytes>{};
    EXPECT_EQ(got.size(), want.size()) << "channel " << ch << "\n" << gateway_output;
    for (std::size_t i = 0; i < want.size() && i < got.size(); ++i)
      EXPECT_EQ(got[i], want[i]) << "channel " << ch << " datagram " << i;
  }
}

class GatewayLab : public ::testing::Test {
 protected:
  std::filesystem::path file(const std::string& name) const { return dir_.path() / name; }

  void start_keymgr(std::uint32_t lifetime_ms) {
    std::filesystem::create_directories(file("km"));
    km_ = KeymgrProcess::start(file("km"), keymgr_config(lifetime_ms));
    ASSERT_TRUE(km_);
  }

  std::vector<std::string> args(const std::string& config_text, const std::vector<std::string>& vdevs,
                                std::uint32_t idle_exit_ms) {
    std::ofstream(file("gateway.toml")) << config_text;
    auto a = eal_args(vdevs);
    a.insert(a.end(), {"--", "--config", file("gateway.toml").string()});
    if (idle_exit_ms) a.insert(a.end(), {"--idle-exit", std::to_string(idle_exit_ms)});
    return a;
  }
  // The key manager (keys of lifetime_ms) and a gateway whose input is a
  // net_tap port that `tap` sends into and whose output is out1.pcap, its
  // interface (named after tag) watched; null, with a failure, if the
  // gateway did not start.
  std::unique_ptr<GatewayChild> start_fed_through(TapCapture& tap, const std::string& tag, std::uint32_t lifetime_ms,
                                                  std::uint32_t idle_exit_ms) {
    start_keymgr(lifetime_ms);
    if (!km_) return nullptr;
    write_pcap(file("empty.pcap"), {});
    const std::string iface = TapCapture::iface_name(tag);
    const std::vector<std::string> vdevs = {
        "net_tap0,iface=" + iface,
        "net_pcap0,rx_pcap=" + file("empty.pcap").string() + ",tx_pcap=" + file("out1.pcap").string()};
    auto gw = std::make_unique<GatewayChild>(args(gateway_config(km_->port(), lifetime_ms, 5000), vdevs, idle_exit_ms));
    if (!gw->wait_for("port 0 checks UDP checksums (RX offload)", milliseconds(20000))) {
      ADD_FAILURE() << gw->output();
      return nullptr;
    }
    tap.watch(iface);
    // The kernel's own IPv6 frames (router solicitations) would hold off --idle-exit.
    std::ofstream("/proc/sys/net/ipv6/conf/" + iface + "/disable_ipv6") << "1\n";
    return gw;
  }


  std::vector<std::string> pcap_pipe() {
    write_pcap(file("empty.pcap"), {});
    return {"net_pcap0,rx_pcap=" + file("in.pcap").string() + ",tx_pcap=" + file("out0.pcap").string(),
            "net_pcap1,rx_pcap=" + file("empty.pcap").string() + ",tx_pcap=" + file("out1.pcap").string()};
  }

  void TearDown() override { remove_runtime_dirs(); }
  Decoded scramble_and_check(std::uint32_t lifetime_ms);

  TempDir dir_;
  std::unique_ptr<KeymgrProcess> km_;
};

// Runs the pcap pipe and checks every output frame; returns the decoded output.
Decoded GatewayLab::scramble_and_check(std::uint32_t lifetime_ms) {
  const Input in = make_input(20);
  write_pcap(file("in.pcap"), in.frames);
  const auto run =
      run_gateway(args(gateway_config(km_->port(), lifetime_ms, 5000), pcap_pipe(), 500), milliseconds(30000));
  EXPECT_EQ(run.exit_code, 0) << run.output << "\n--- keymgr:\n" << km_->log();

  EXPECT_TRUE(read_pcap(file("out0.pcap")).empty()) << "nothing goes back out of the input port";
  const auto out = read_pcap(file("out1.pcap"));
  KeyCache keys(km_->port());
  Decoded d = decode(out, keys);
  expect_input_back(in, d, run.output);
  std::size_t datagrams = 0;
  for (const auto& [ch, v] : in.expected) datagrams += v.size();
  EXPECT_EQ(out.size(), datagrams + d.notices);
  EXPECT_TRUE(std::regex_search(run.output, std::regex("not_a_channel +" + std::to_string(in.strangers) + " ")))
      << run.output;
  EXPECT_TRUE(std::regex_search(run.output, std::regex("scrambled +" + std::to_string(datagrams) + " "))) << run.output;
  return d;
}

TEST_F(GatewayLab, ScramblesEveryChannelDatagramAndNothingElse) {
  start_keymgr(10000);
  (void)scramble_and_check(10000);
}

// Started past X (50 %) of a 4 s lifetime, so every channel's next key
// exists: KEY_NOTICEs go out on each output group while the run lasts. The
// switch is ~1.9 s away: with a 2 s lifetime it was 0.9 s, and under ASan on
// a loaded 2-core machine only 3 of the 5 channels announced once.
TEST_F(GatewayLab, AnnouncesTheNextKey) {
  start_keymgr(4000);
  std::this_thread::sleep_for(milliseconds(2100));
  const Decoded d = scramble_and_check(4000);
  EXPECT_GE(d.notices, channel_ids().size());
}

// Output on a net_tap port, which offers UDP checksum offload (its TX then
// computes them in software): the gateway leaves the checksums to the port,
// and every frame on the tap interface, seen from the kernel, has them right
// and descrambles to the input. (The pseudo-header sum a hardware port wants
// in the field is checked against DPDK's in gateway_rewrite.)
TEST_F(GatewayLab, UdpChecksumsLeftToAPortThatOffersThem) {
  if (!TapCapture::usable()) GTEST_SKIP() << "needs root and /dev/net/tun for net_tap";
  TapCapture capture;
  start_keymgr(10000);
  const Input in = make_input(20);
  write_pcap(file("in.pcap"), in.frames);
  const std::string iface = TapCapture::iface_name("sc");
  const std::vector<std::string> vdevs = {
      "net_pcap0,rx_pcap=" + file("in.pcap").string() + ",tx_pcap=" + file("out0.pcap").string(),
      "net_tap0,iface=" + iface};
  GatewayChild gw(args(gateway_config(km_->port(), 10000, 5000), vdevs, 500));
  ASSERT_TRUE(gw.wait_for("computes the UDP checksums (TX offload)", milliseconds(20000))) << gw.output();
  capture.watch(iface);
  const GatewayRun run = gw.finish(0, milliseconds(30000));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  KeyCache keys(km_->port());
  expect_input_back(in, decode(capture.frames(), keys), run.output);
}

// Input on a net_tap port, which offers UDP checksum checking (its RX does it
// in software): a datagram it finds with a wrong checksum is dropped and
// counted, not scrambled into one with a right checksum that would hide the
// corruption from the receivers. Right ones, and IPv4 ones without a checksum
// (0), are scrambled.
TEST_F(GatewayLab, DropsDatagramsWhoseUdpChecksumTheInputPortFindsWrong) {
  if (!TapCapture::usable()) GTEST_SKIP() << "needs root and /dev/net/tun for net_tap";
  TapCapture tap;
  auto started = start_fed_through(tap, "in", 10000, 1000);
  ASSERT_TRUE(started);
  GatewayChild& gw = *started;

  std::map<std::uint32_t, std::vector<Bytes>> expected;
  std::size_t wrong = 0;
  for (std::size_t i = 0; i < 10; ++i) {
    for (const std::uint32_t ch : {1u, 5u}) {
      const Bytes payload = raw_payload(200 + i * 31, static_cast<std::uint32_t>(i * 10 + ch));
      UdpSpec spec;
      spec.src = ch == 5 ? ip("2001:db8::1") : ip("10.0.0.1");
      spec.dst = ch == 5 ? ip("ff3e::1:5") : ip("239.1.1." + std::to_string(ch));
      Frame f = udp_frame(spec, payload);
      pktparse::PacketView v;
      ASSERT_EQ(pktparse::parse_frame(f, v), pktparse::Status::ok);
      if (i % 4 == 1) {  // one bit of the payload flipped on the way
        f[v.payload_offset + i] ^= 0x10;
        ++wrong;
      } else {
        if (i % 4 == 3 && ch == 1) f[v.l4_offset + 6] = f[v.l4_offset + 7] = 0;  // IPv4: no checksum
        expected[ch].push_back(payload);
      }
      ASSERT_TRUE(tap.send(f));
    }
  }
  const GatewayRun run = gw.finish(0, milliseconds(30000));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(std::regex_search(run.output, std::regex("udp_checksum_bad +" + std::to_string(wrong) + " ")))
      << run.output;
  KeyCache keys(km_->port());
  const Decoded d = decode(read_pcap(file("out1.pcap")), keys);
  for (const auto& p : d.problems) ADD_FAILURE() << p;
  for (const std::uint32_t ch : {1u, 5u}) {
    const auto got = d.clear.count(ch) ? d.clear.at(ch) : std::vector<Bytes>{};
    ASSERT_EQ(got.size(), expected[ch].size()) << "channel " << ch << "\n" << run.output;
    for (std::size_t i = 0; i < got.size(); ++i)
      EXPECT_TRUE(got[i] == expected[ch][i]) << "channel " << ch << " datagram " << i;
  }
}

TEST_F(GatewayLab, WithoutKeyManagerNothingIsPolledOrSent) {
  // A port nobody listens on.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  ::close(fd);

  write_pcap(file("in.pcap"), make_input(5).frames);
  const auto run =
      run_gateway(args(gateway_config(ntohs(a.sin_port), 10000, 1500), pcap_pipe(), 500), milliseconds(30000));
  EXPECT_EQ(run.exit_code, 3) << run.output;
  std::string ids;
  for (const auto ch : channel_ids()) ids += (ids.empty() ? "" : ", ") + std::to_string(ch);
  EXPECT_NE(run.output.find("no key for channel(s) " + ids + " within"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("polls its ports only once every channel has its keys"), std::string::npos);
  EXPECT_TRUE(read_pcap(file("out1.pcap")).empty());
  EXPECT_TRUE(read_pcap(file("out0.pcap")).empty());
}

// Two workers, one per input port, each with its own TX queue (one output
// file each). Channels 3 and 4 arrive on port 2, the others on port 0, and
// some datagrams of channel 1 on port 2 too: whichever worker saw channel 1
// first owns it, and the other hands its datagrams over. Every datagram comes
// out once, scrambled by the owner, in order per input port.
TEST_F(GatewayLab, TwoWorkersOnTwoInputPorts) {
  start_keymgr(10000);
  const Input in = make_input(20);
  std::vector<Frame> port0, port2;
  std::map<std::uint32_t, std::vector<Bytes>> expected = in.expected;
  for (const Frame& f : in.frames) {
    pktparse::PacketView v;
    Frame copy = f;
    ASSERT_EQ(pktparse::parse_frame(copy, v), pktparse::Status::ok);
    const bool on2 = v.dst.family == 4 && (v.dst.bytes[3] == 3 || v.dst.bytes[3] == 4) && v.dst_port == 5000;
    (on2 ? port2 : port0).push_back(f);
  }
  constexpr std::size_t kExtra = 5;
  for (std::size_t i = 0; i < kExtra; ++i) {
    Bytes payload = raw_payload(300 + i, static_cast<std::uint32_t>(9000 + i));
    port2.push_back(udp_frame(to(ip("10.0.0.2"), "239.1.1.1"), payload));
    expected[1].push_back(std::move(payload));
  }
  write_pcap(file("in0.pcap"), port0);
  write_pcap(file("in2.pcap"), port2);
  write_pcap(file("empty.pcap"), {});
  const std::vector<std::string> vdevs = {
      "net_pcap0,rx_pcap=" + file("in0.pcap").string() + ",tx_pcap=" + file("back0.pcap").string(),
      "net_pcap1,rx_pcap=" + file("empty.pcap").string() + ",tx_pcap=" + file("outA.pcap").string() +
          ",tx_pcap=" + file("outB.pcap").string(),
      "net_pcap2,rx_pcap=" + file("in2.pcap").string() + ",tx_pcap=" + file("back2.pcap").string()};
  std::string config = gateway_config(km_->port(), 10000, 5000);
  config.replace(config.find("input = 0\n"), 10, "inputs = [0, 2]\n");
  config.replace(config.find("mbufs = 4095"), 12, "mbufs = 8191");
  auto a = args(config, vdevs, 500);
  // Three lcores on the two CPUs: the main lcore (mostly asleep) shares one.
  const auto l = std::find(a.begin(), a.end(), "-l");
  ASSERT_NE(l, a.end());
  *l = "--lcores";
  *(l + 1) = "0@0,1@0,2@1";
  const auto run = run_gateway(a, milliseconds(30000));
  ASSERT_EQ(run.exit_code, 0) << run.output << "\n--- keymgr:\n" << km_->log();
  EXPECT_NE(run.output.find("worker 0 on lcore 1: polls port/queue 0/0, sends on port 1 queue 0"), std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("worker 1 on lcore 2: polls port/queue 2/0, sends on port 1 queue 1"), std::string::npos)
      << run.output;

  KeyCache keys(km_->port());
  const Decoded da = decode(read_pcap(file("outA.pcap")), keys);
  const Decoded db = decode(read_pcap(file("outB.pcap")), keys);
  for (const auto& p : da.problems) ADD_FAILURE() << "queue 0 " << p;
  for (const auto& p : db.problems) ADD_FAILURE() << "queue 1 " << p;
  EXPECT_FALSE(da.clear.empty());
  EXPECT_FALSE(db.clear.empty());
  for (const std::uint32_t ch : channel_ids()) {
    const bool in_a = da.clear.count(ch) != 0, in_b = db.clear.count(ch) != 0;
    EXPECT_NE(in_a, in_b) << "channel " << ch << " must come out of exactly one worker";
    const std::vector<Bytes> got = in_a ? da.clear.at(ch) : in_b ? db.clear.at(ch) : std::vector<Bytes>{};
    const std::vector<Bytes>& want = expected.at(ch);
    if (ch != 1) {
      EXPECT_EQ(got, want) << "channel " << ch;
      continue;
    }
    // From both ports: no order between them.
    auto bag = [](const std::vector<Bytes>& v) {
      std::multiset<std::string> b;
      for (const Bytes& x : v) b.emplace(x.begin(), x.end());
      return b;
    };
    EXPECT_EQ(bag(got), bag(want)) << "channel 1";
  }
  std::smatch m;
  ASSERT_TRUE(std::regex_search(run.output, m, std::regex("handed_over +(\\d+) "))) << run.output;
  const std::size_t handed = std::stoul(m[1]);
  EXPECT_TRUE(handed == kExtra || handed == in.expected.at(1).size()) << run.output;
  EXPECT_EQ(run.output.find("handoff_full"), std::string::npos) << run.output;
}

// A continuous stream (infinite_rx) into net_null for a few 1-second
// lifetimes: the worker switches keys on its own clock, never degraded, and
// announces every next key.
TEST_F(GatewayLab, SwitchesKeysUnderAContinuousStream) {
  start_keymgr(1000);
  write_pcap(file("in.pcap"), make_input(4).frames);
  const std::vector<std::string> vdevs = {endless_input_vdev(file("in.pcap")), "net_null0"};
  const auto run = run_gateway(args(gateway_config(km_->port(), 1000, 5000), vdevs, 0), milliseconds(30000),
                               milliseconds(3500));
  ASSERT_EQ(run.exit_code, 0) << run.output << "\n--- keymgr:\n" << km_->log();
  for (const std::uint32_t ch : channel_ids())
    EXPECT_TRUE(std::regex_search(run.output, std::regex("channel " + std::to_string(ch) + ": switched from key")))
        << "channel " << ch << "\n" << run.output;
  EXPECT_EQ(run.output.find("degraded_switches"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("notices_sent"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("usage report for"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("usage report given up"), std::string::npos) << run.output;
}

// Channel 4 (origin "gateway") when its key ended at the key manager before
// the gateway asked for the next one (the key manager stopped for longer
// than a key's life): no next key can follow a key that has ended there, so
// the gateway has a new current one made, and its keys roll on.
TEST_F(GatewayLab, GatewayOriginKeysRollOnAfterTheKeyManagerMissedAKeyEnd) {
  if (channel_ids().size() != 5) GTEST_SKIP() << "channel 4 (origin gateway) not served";
  start_keymgr(1000);
  write_pcap(file("in.pcap"), make_input(4).frames);
  const std::vector<std::string> vdevs = {endless_input_vdev(file("in.pcap")), "net_null0"};
  GatewayChild gw(args(gateway_config(km_->port(), 1000, 5000), vdevs, 0));
  ASSERT_TRUE(gw.wait_for("channel 4: switched from key", milliseconds(20000))) << gw.output();
  // Past the end of channel 4's key at the key manager.
  const std::string after = output_after_stopping(gw, km_->pid(), milliseconds(1600));
  const GatewayRun run = gw.finish(SIGTERM, milliseconds(20000));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(after.find("channel 4: the key manager has no current key: asking it for a new one"), std::string::npos)
      << after;
  EXPECT_NE(after.find("channel 4: switched from key"), std::string::npos) << after << "\n--- keymgr:\n"
                                                                           << km_->log();
}

// The gateway cut off from the key manager (here stopped itself) for longer
// than a key's life while the key manager goes on making the channels' keys:
// when it is back, the key manager's current key is several past its own,
// the keys between having ended unseen, and each channel whose keys the key
// manager makes moves on to that key instead of keeping its ended one
// (degraded) for good. (Channel 4's keys are the gateway's: the test above.)
TEST_F(GatewayLab, KeysRollOnAfterTheGatewayMissedKeysOfTheKeyManager) {
  start_keymgr(1000);
  write_pcap(file("in.pcap"), make_input(4).frames);
  const std::vector<std::string> vdevs = {endless_input_vdev(file("in.pcap")), "net_null0"};
  GatewayChild gw(args(gateway_config(km_->port(), 1000, 5000), vdevs, 0));
  ASSERT_TRUE(gw.wait_for("channel 1: switched from key", milliseconds(20000))) << gw.output();
  // The key manager makes and ends keys meanwhile.
  const std::string after = output_after_stopping(gw, gw.pid(), milliseconds(3500));
  const GatewayRun run = gw.finish(SIGTERM, milliseconds(20000));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  for (const std::uint32_t ch : channel_ids()) {
    if (ch == 4) continue;
    const std::string name = "channel " + std::to_string(ch) + ": ";
    EXPECT_TRUE(std::regex_search(
        after, std::regex(name + "the key manager's current key is \\d+; keys \\d+\\.\\.\\d+ ended there while this "
                                 "gateway was away, or a promoted key manager skipped them, so it follows key \\d+")))
        << after << "\n--- keymgr:\n" << km_->log();
    EXPECT_NE(after.find(name + "switched from key"), std::string::npos) << after;
  }
}

// The key manager away through the end of a key (here stopped): the worker
// keeps its ended key (degraded) and, once the next key comes, three notice
// intervals more while KEY_NOTICEs announce the new one, as for a key that
// came in time, so that receivers can fetch it before its first datagram
// rather than hold that datagram while they do. Input paced through a
// net_tap port, output to a pcap.
TEST_F(GatewayLab, ANextKeyThatCameLateIsAnnouncedBeforeTheSwitch) {
  if (!TapCapture::usable()) GTEST_SKIP() << "needs root and /dev/net/tun for net_tap";
  TapCapture tap;
  // 2 s keys: what is left of the late key leaves room for the three notices.
  auto started = start_fed_through(tap, "lt", 2000, 0);
  ASSERT_TRUE(started);
  GatewayChild& gw = *started;
  std::atomic<bool> stop{false};
  std::thread sender([&] {
    for (std::uint32_t i = 0; !stop; ++i) {
      (void)tap.send(udp_frame(to(ip("10.0.0.1"), "239.1.1.1"), raw_payload(300, i)));
      std::this_thread::sleep_for(milliseconds(10));
    }
  });
  const bool switched = gw.wait_for("channel 1: switched from key", milliseconds(20000));
  const std::string after = switched ? output_after_stopping(gw, km_->pid(), milliseconds(2600)) : "";
  stop = true;
  sender.join();
  const GatewayRun run = gw.finish(SIGTERM, milliseconds(20000));
  ASSERT_TRUE(switched) << run.output;
  EXPECT_EQ(run.exit_code, 0) << run.output;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(after, m, std::regex("channel 1: key (\\d+) reached its end with no next key")))
      << after << "\n--- keymgr:\n" << km_->log();
  const auto ended = static_cast<std::uint32_t>(std::stoul(m[1]));

  std::uint32_t late = 0;  // the first key after the one that ended
  std::size_t announced = 0;
  for (Frame f : read_pcap(file("out1.pcap"))) {
    pktparse::PacketView v;
    pktparse::KcHeader h;
    if (pktparse::parse_frame(f, v) != pktparse::Status::ok || output_channel(v) != 1) continue;
    if (pktparse::parse_header({f.data() + v.payload_offset, v.payload_len}, h) != pktparse::Status::ok) continue;
    if (h.type == pktparse::MsgType::key_notice && h.key_id == ended) {
      if (!late) late = h.next_key_id;
      announced += h.next_key_id == late;
    }
    if (h.type == pktparse::MsgType::data && h.key_id > ended) {
      EXPECT_EQ(h.key_id, late) << "the first datagram after key " << ended << " is under the key announced";
      break;
    }
  }
  EXPECT_NE(late, 0u) << "no notice under key " << ended << "\n" << after;
  EXPECT_GE(announced, 3u) << "notices of key " << late << " before its first datagram\n" << after;
}

// Channel 4's next key made at the master, and its KEY_GENERATE answer lost:
// the master dies before answering, after the replica got the key. The
// replica makes no keys (not_master), and serves that one to receivers as the
// channel's key; the gateway asks for it by id and switches to it, instead of
// keeping its ended key (degraded) that receivers let expire. Here the key is
// made by a KEY_GENERATE of the test, with the gateway stopped (SIGSTOP).
TEST_F(GatewayLab, GatewayOriginNextKeyWhoseAnswerWasLostIsTakenFromTheReplica) {
  if (channel_ids().size() != 5) GTEST_SKIP() << "channel 4 (origin gateway) not served";
  constexpr std::uint32_t kLife = 2000;
  const std::uint16_t mport = keymgr::test::free_port();
  std::filesystem::create_directories(file("km"));
  std::filesystem::create_directories(file("replica"));
  auto master = KeymgrProcess::start(
      file("km"),
      keymgr::test::with_port(keymgr_config(kLife), mport) + keymgr::test::replica_peer("[1, 2, 3, 4, 5]"));
  ASSERT_TRUE(master);
  keymgr::test::ConfigOptions r;
  r.server_extra = keymgr::test::replica_of(mport);
  auto replica = KeymgrProcess::start(file("replica"), keymgr_config(kLife, r));
  ASSERT_TRUE(replica);

  std::string config = gateway_config(mport, kLife, 5000);
  const std::string one = "endpoints = [\"127.0.0.1:" + std::to_string(mport) + "\"]";
  config.replace(config.find(one), one.size(),
                 "endpoints = [\"127.0.0.1:" + std::to_string(mport) + "\", \"127.0.0.1:" +
                     std::to_string(replica->port()) + "\"]");
  write_pcap(file("in.pcap"), make_input(4).frames);
  const std::vector<std::string> vdevs = {endless_input_vdev(file("in.pcap")), "net_null0"};
  GatewayChild gw(args(config, vdevs, 0));
  // Just switched: its next key is asked for at half the key's life, 1 s on.
  const std::regex switched("channel 4: switched from key \\d+ to (\\d+)");
  std::smatch m;
  ASSERT_TRUE(gw.wait_for("channel 4: switched from key", milliseconds(20000))) << gw.output();
  ASSERT_EQ(::kill(gw.pid(), SIGSTOP), 0);
  const std::string before = gw.output();
  ASSERT_TRUE(std::regex_search(before, m, switched)) << before;
  const std::uint32_t current = static_cast<std::uint32_t>(std::stoul(m[1]));

  kmclient::ClientConfig c;
  c.endpoints.push_back({"127.0.0.1", mport});
  c.peer_id = "gw1";
  c.auth_token = "gw1-lab-token";
  c.role = kmproto::Role::gateway;
  kmclient::KeymgrClient gw1(c);
  const auto made = gw1.generate(4, kmproto::Which::next, static_cast<std::uint8_t>(pktparse::Suite::xor_inv), 64, kLife);
  ASSERT_TRUE(made) << made.error().message;
  ASSERT_EQ(made->key_id, current + 1);
  c.endpoints = {{"127.0.0.1", replica->port()}};
  kmclient::KeymgrClient at_replica(c);
  bool replicated = false;
  for (int i = 0; i < 100 && !replicated; ++i) {
    replicated = static_cast<bool>(at_replica.request_key(4, current + 1));
    if (!replicated) std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_TRUE(replicated) << replica->log();
  master->stop(SIGKILL);
  master.reset();
  ASSERT_EQ(::kill(gw.pid(), SIGCONT), 0);

  const std::string next = "channel 4: switched from key " + std::to_string(current) + " to " +
                           std::to_string(current + 1);
  EXPECT_TRUE(gw.wait_for(next, milliseconds(10000))) << gw.output().substr(before.size());
  const GatewayRun run = gw.finish(SIGTERM, milliseconds(20000));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("channel 4: key " + std::to_string(current + 1) +
                            " was made at the key manager, its answer lost: taken as next"),
            std::string::npos)
      << run.output.substr(before.size());
}

// The key manager hangs (stopped: the kernel still takes connections, nothing
// answers) for longer than a request timeout: the first call to meet it
// waits its timeout, the next calls of the other channels are not dialled
// (kmclient's hold-off) and say so once, no channel repeats a line about it,
// and the keys roll on once it answers again.
TEST_F(GatewayLab, HungKeyManagerIsWaitedOnOnceAndKeysRollOnAfterIt) {
  start_keymgr(2000);
  write_pcap(file("in.pcap"), make_input(4).frames);
  const std::vector<std::string> vdevs = {endless_input_vdev(file("in.pcap")), "net_null0"};
  GatewayChild gw(args(gateway_config(km_->port(), 2000, 5000), vdevs, 0));
  ASSERT_TRUE(gw.wait_for("switched from key", milliseconds(20000))) << gw.output();
  const std::size_t stopped = gw.output().size();
  ASSERT_EQ(::kill(km_->pid(), SIGSTOP), 0);
  (void)gw.collect_for(milliseconds(5000));  // every channel due for a next key, past a 2 s request timeout
  ASSERT_EQ(::kill(km_->pid(), SIGCONT), 0);
  const std::string during = gw.output().substr(stopped);
  const std::size_t resumed = gw.output().size();
  (void)gw.collect_for(milliseconds(5000));
  const std::string after = gw.output().substr(resumed);
  const GatewayRun run = gw.finish(SIGTERM, milliseconds(20000));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  // The first call to meet it waited: on the kept connection, or dialling anew.
  EXPECT_TRUE(during.find("no answer within 2000 ms") != std::string::npos ||
              during.find("HELLO: timed out") != std::string::npos)
      << during;
  EXPECT_NE(during.find("not dialled: it gave no answer in time"), std::string::npos) << during;
  for (const std::uint32_t ch : channel_ids()) {
    const std::string next_key = "channel " + std::to_string(ch) + ": next key: ";
    std::size_t lines = 0;
    for (std::size_t at = during.find(next_key); at != std::string::npos; at = during.find(next_key, at + 1)) ++lines;
    EXPECT_LE(lines, 2u) << "channel " << ch << "\n" << during;
    EXPECT_TRUE(std::regex_search(after, std::regex("channel " + std::to_string(ch) + ": switched from key")))
        << "channel " << ch << "\n" << after << "\n--- keymgr:\n" << km_->log();
  }
}

// The key manager away across key switches (killed, then back on its port
// with its state): the USAGE_REPORTs it could not take wait in the gateway and
// are delivered when it is back, so its accounts hold every datagram the
// gateway scrambled, none lost and none twice.
TEST_F(GatewayLab, UsageReportsWaitForAKeyManagerThatIsAway) {
  const std::uint16_t port = keymgr::test::free_port();
  std::string config = keymgr_config(2000);
  const std::string any_port = "listen = \"127.0.0.1:0\"";
  config.replace(config.find(any_port), any_port.size(), "listen = \"127.0.0.1:" + std::to_string(port) + "\"");
  std::filesystem::create_directories(file("km"));
  km_ = KeymgrProcess::start(file("km"), config);
  ASSERT_TRUE(km_);
  write_pcap(file("in.pcap"), make_input(4).frames);
  const std::vector<std::string> vdevs = {endless_input_vdev(file("in.pcap")), "net_null0"};
  GatewayChild gw(args(gateway_config(port, 2000, 5000), vdevs, 0));
  ASSERT_TRUE(gw.wait_for("switched from key", milliseconds(20000))) << gw.output();
  // At 65 % of the 2 s keys: past X (50 %: the next keys are fetched, so the
  // switches go on while it is away) and between two rounds of switches, so
  // that no report is in flight at the kill (one the key manager applied but
  // could not answer would be sent again: keymgr-protocol.md has no report id
  // to tell).
  std::this_thread::sleep_for(milliseconds(1300));
  const std::filesystem::path state = km_->state_dir();
  km_->stop(SIGKILL);
  ASSERT_TRUE(gw.wait_for("not taken", milliseconds(10000))) << gw.output();
  std::this_thread::sleep_for(milliseconds(1500));  // more switches while it is away
  km_ = KeymgrProcess::start(file("km"), config, state);
  ASSERT_TRUE(km_);
  ASSERT_TRUE(gw.wait_for("usage reports delivered", milliseconds(20000))) << gw.output();
  const GatewayRun run = gw.finish(SIGTERM, milliseconds(20000));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output.find("usage report given up"), std::string::npos) << run.output;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(run.output, m, std::regex("scrambled +(\\d+) "))) << run.output;
  const std::uint64_t scrambled = std::stoull(m[1]);
  EXPECT_GT(scrambled, 0u);

  std::string out;
  ASSERT_EQ(keymgr::test::run_keymgr({"accounts", "--state-dir", state.string(), "--format", "json"}, &out), 0) << out;
  std::uint64_t packets = 0, bytes = 0;
  for (const auto& r : nlohmann::json::parse(out)) {
    if (r["peer"] != "gw1") continue;
    packets += r["packets"].get<std::uint64_t>();
    bytes += r["bytes"].get<std::uint64_t>();
  }
  EXPECT_EQ(packets, scrambled) << out << "\n--- gateway:\n" << run.output;
  EXPECT_GT(bytes, 0u);
}

// With usage_file, neither a kill -9 nor a stop while the key manager is
// away loses usage: run 1 is killed with its keys still in use (no report
// sent yet), run 2 sends what run 1 left and is stopped while the key
// manager is down, run 3 (nothing to scramble) sends what run 2 kept. The key
// manager's accounts then hold every datagram runs 1 and 2 scrambled.
TEST_F(GatewayLab, UsageFileKeepsUsageAcrossAKillAndAStopWithoutTheKeyManager) {
  const std::uint16_t port = keymgr::test::free_port();
  std::string config = keymgr_config(600000);  // one key per channel for the whole test
  const std::string any_port = "listen = \"127.0.0.1:0\"";
  config.replace(config.find(any_port), any_port.size(), "listen = \"127.0.0.1:" + std::to_string(port) + "\"");
  std::filesystem::create_directories(file("km"));
  km_ = KeymgrProcess::start(file("km"), config);
  ASSERT_TRUE(km_);

  std::string gw = gateway_config(port, 600000, 5000);
  gw.insert(gw.find('\n') + 1, "usage_file = \"" + file("gw1.usage").string() + "\"\n");
  auto input = [&](const std::string& name, std::size_t per_channel) {
    const Input in = make_input(per_channel);
    write_pcap(file(name), in.frames);
    std::uint64_t datagrams = 0;
    for (const auto& [ch, v] : in.expected) datagrams += v.size();
    return datagrams;
  };
  auto vdevs = [&](const std::string& name) {
    return std::vector<std::string>{"net_pcap0,rx_pcap=" + file(name).string(), "net_null0"};
  };
  auto in_file = [&] {  // packets the usage file holds
    std::ifstream f(file("gw1.usage"));
    std::string line;
    std::uint64_t packets = 0;
    std::uint32_t ch = 0, key = 0;
    std::uint64_t p = 0, b = 0;
    std::getline(f, line);
    while (f >> ch >> key >> p >> b) packets += p;
    return packets;
  };
  auto wait_until_file_holds = [&](std::uint64_t packets) {
    for (int i = 0; i < 200 && in_file() != packets; ++i) std::this_thread::sleep_for(milliseconds(50));
    return in_file();
  };
  const std::uint64_t first = input("in1.pcap", 4), second = input("in2.pcap", 3);
  (void)input("none.pcap", 0);
  ASSERT_NE(first, second);

  {
    GatewayChild g(args(gw, vdevs("in1.pcap"), 0));
    ASSERT_TRUE(g.wait_for("scrambling:", milliseconds(15000))) << g.output();
    EXPECT_EQ(wait_until_file_holds(first), first) << g.output();
    EXPECT_EQ(g.finish(SIGKILL, milliseconds(5000)).exit_code, 128 + SIGKILL);
  }
  EXPECT_EQ(std::filesystem::status(file("gw1.usage")).permissions(),
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  {
    GatewayChild g(args(gw, vdevs("in2.pcap"), 0));
    ASSERT_TRUE(g.wait_for("usage report(s) of an earlier run to send", milliseconds(15000))) << g.output();
    EXPECT_EQ(wait_until_file_holds(second), second) << "run 1's usage sent, run 2's counted\n" << g.output();
    km_->stop(SIGKILL);
    const GatewayRun run = g.finish(SIGTERM, milliseconds(20000));
    EXPECT_EQ(run.exit_code, 0) << run.output;
    EXPECT_NE(run.output.find("not taken at stop"), std::string::npos) << run.output;
    EXPECT_EQ(run.output.find("usage report given up"), std::string::npos) << run.output;
  }
  EXPECT_EQ(in_file(), second);
  km_ = KeymgrProcess::start(file("km"), config, km_->state_dir());
  ASSERT_TRUE(km_);
  {
    GatewayChild g(args(gw, vdevs("none.pcap"), 0));
    ASSERT_TRUE(g.wait_for("usage report(s) of an earlier run to send", milliseconds(15000))) << g.output();
    EXPECT_EQ(wait_until_file_holds(0), 0u) << g.output();
    EXPECT_EQ(g.finish(SIGTERM, milliseconds(20000)).exit_code, 0);
  }

  std::string out;
  ASSERT_EQ(keymgr::test::run_keymgr({"accounts", "--state-dir", km_->state_dir().string(), "--format", "json"}, &out),
            0)
      << out;
  std::uint64_t packets = 0;
  for (const auto& r : nlohmann::json::parse(out))
    if (r["peer"] == "gw1") packets += r["packets"].get<std::uint64_t>();
  EXPECT_EQ(packets, first + second) << out;
}

}  // namespace
}  // namespace gateway::test
