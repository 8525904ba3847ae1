// keycast-gateway in descramble mode, end to end on net_pcap ports against
// the real key manager: clear → scramble → descramble gives the input back
// byte for byte; a key the descrambler did not load is fetched by id while
// its datagrams are held, then they are delivered; a full hold queue and a
// key nobody has drop and count; tampered and malformed datagrams are dropped
// and counted, never forwarded; forged and replayed datagrams (key ids far
// ahead or behind, forged notices, KEYMGR_ADDR elsewhere, GCM replays, a
// flood of key ids) neither get fetched, nor delivered twice, nor block the
// channel.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <thread>

#include "frames.h"
#include "gateway_process.h"
#include "keymgr_process.h"
#include "kmclient/client.h"
#include "pcap_file.h"
#include "tap_capture.h"
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

constexpr std::uint8_t kInputTtl = 8;  // UdpSpec's default: the descrambler restores it

// The lab key manager plus channel 5 (aes128-ctr) for the IPv6 input.
std::string keymgr_config(std::uint32_t lifetime_ms, std::uint32_t grace_ms = 2000) {
  keymgr::test::ConfigOptions o;
  o.lifetime_ms = lifetime_ms;
  o.server_extra = "grace_ms = " + std::to_string(grace_ms) + "\n";
  std::string s = keymgr::test::lab_config(o);
  const std::string gw = "channels = [1, 2, 3, 4]\nfeeds";
  const auto at = s.find(gw);
  if (at != std::string::npos) s.replace(at, gw.size(), "channels = [1, 2, 3, 4, 5]\nfeeds");
  s += "\n[[channel]]\nid = 5\nsuite = \"aes128-ctr\"\nlifetime_ms = " + std::to_string(lifetime_ms) + "\n";
  return s;
}

std::string keys_section(std::uint16_t keymgr_port) {
  return "[ports]\ninput = 0\noutput = 1\nmbufs = 4095\n"
         "[keys]\nendpoints = [\"127.0.0.1:" + std::to_string(keymgr_port) + "\"]\n"
         "peer_id = \"gw1\"\ntoken = \"gw1-lab-token\"\n"
         "connect_timeout_ms = 500\nrequest_timeout_ms = 2000\nstartup_timeout_ms = 5000\n";
}

const char* suite_of(std::uint32_t ch) {
  switch (ch) {
    case 2: return "xor";
    case 3: return "aes128-gcm";
    case 4: return "xor-inv";
    default: return "aes128-ctr";
  }
}
const char* payload_of(std::uint32_t ch) { return ch == 2 || ch == 4 ? "ts" : "raw"; }
std::string clear_group(std::uint32_t ch) { return ch == 5 ? "[ff3e::1:5]:5000" : "239.1.1." + std::to_string(ch) + ":5000"; }
std::string scrambled_group(std::uint32_t ch) { return ch == 5 ? "[ff3e::2:5]:5000" : "239.2.1." + std::to_string(ch) + ":5000"; }

// Channels 1-5; 4 of origin gateway (the scrambler makes its keys).
std::string scramble_config(std::uint16_t keymgr_port) {
  std::string s = "mode = \"scramble\"\n" + keys_section(keymgr_port);
  for (std::uint32_t ch = 1; ch <= 5; ++ch) {
    s += "\n[[channel]]\nid = " + std::to_string(ch) + "\ninput = \"" + clear_group(ch) + "\"\noutput = \"" +
         scrambled_group(ch) + "\"\nsuite = \"" + suite_of(ch) + "\"\npayload = \"" + payload_of(ch) + "\"\n";
    if (ch == 1) s += "tlv_keymgr_addr = true\n";
    if (ch == 4) s += "origin = \"gateway\"\nkey_length = 64\nlifetime_ms = 10000\n";
  }
  return s;
}

// The reverse of scramble_config, as config/gateway-descramble-lab.toml.
// Channel 4 has keys only once a scrambler made them.
std::string descramble_config(std::uint16_t keymgr_port, std::uint32_t hold_datagrams = 64, std::uint32_t hold_ms = 50,
                              const std::vector<std::uint32_t>& channels = {1, 2, 3, 4, 5}) {
  std::string s = "mode = \"descramble\"\n" + keys_section(keymgr_port);
  for (const std::uint32_t ch : channels)
    s += "\n[[channel]]\nid = " + std::to_string(ch) + "\ninput = \"" + scrambled_group(ch) + "\"\noutput = \"" +
         clear_group(ch) + "\"\nttl = " + std::to_string(kInputTtl) + "\nsuite = \"" + suite_of(ch) +
         "\"\npayload = \"" + payload_of(ch) + "\"\nhold_datagrams = " + std::to_string(hold_datagrams) +
         "\nhold_ms = " + std::to_string(hold_ms) + "\n";
  return s;
}

struct ClearInput {
  std::vector<Frame> frames;
  std::map<std::uint32_t, std::vector<Frame>> expected;  // per channel, in order: the frame without padding
};

// Channels 1-5 round robin (TS on 2 and 4, IPv6 on 5), a VLAN-tagged and a
// padded short datagram on channel 1.
ClearInput make_clear_input(std::size_t per_channel) {
  ClearInput in;
  for (std::size_t i = 0; i < per_channel; ++i) {
    for (std::uint32_t ch = 1; ch <= 5; ++ch) {
      const auto seed = static_cast<std::uint32_t>(i * 10 + ch);
      const Bytes payload = (ch == 2 || ch == 4)
                                ? ts_payload(7, static_cast<std::uint8_t>(i), seed, /*with_pat=*/i % 2 == 0)
                                : raw_payload(100 + (i * 97 + ch * 13) % 1200, seed);
      UdpSpec spec;
      spec.src = ch == 5 ? ip("2001:db8::1") : ip("10.0.0.1");
      spec.dst = ch == 5 ? ip("ff3e::1:5") : ip("239.1.1." + std::to_string(ch));
      if (ch == 1 && i == 1) spec.vlan = 100;
      Frame f = udp_frame(spec, payload);
      in.frames.push_back(f);
      in.expected[ch].push_back(f);
    }
    if (i == 2) {
      UdpSpec spec;
      spec.src = ip("10.0.0.1");
      spec.dst = ip("239.1.1.1");
      Frame f = udp_frame(spec, {1, 2, 3, 4});
      in.expected[1].push_back(f);
      f.resize(60, 0);  // Ethernet padding after the datagram
      in.frames.push_back(f);
    }
  }
  return in;
}

// The clear channel of an output frame (239.1.1.n or ff3e::1:5, port 5000).
std::uint32_t clear_channel(const Frame& f) {
  pktparse::PacketView v;
  if (pktparse::parse_frame(f, v) != pktparse::Status::ok || v.dst_port != 5000) return 0;
  if (v.dst.family == 4 && v.dst.bytes[0] == 239 && v.dst.bytes[1] == 1 && v.dst.bytes[2] == 1) return v.dst.bytes[3];
  if (v.dst.family == 6 && std::memcmp(v.dst.bytes, ip("ff3e::1:5").bytes, 16) == 0) return 5;
  return 0;
}

// Every output frame is its input frame but for the source MAC (the output
// port's); per channel, in order.
void expect_same_frames(const ClearInput& in, const std::vector<Frame>& out, const std::string& log) {
  std::map<std::uint32_t, std::vector<Frame>> got;
  for (const Frame& f : out) {
    const std::uint32_t ch = clear_channel(f);
    ASSERT_NE(ch, 0u) << "a frame to no clear group";
    got[ch].push_back(f);
  }
  for (const auto& [ch, want] : in.expected) {
    const auto& g = got[ch];
    EXPECT_EQ(g.size(), want.size()) << "channel " << ch << "\n" << log;
    for (std::size_t i = 0; i < want.size() && i < g.size(); ++i) {
      Frame w = want[i];
      if (g[i].size() >= 12 && w.size() >= 12) std::memcpy(w.data() + 6, g[i].data() + 6, 6);
      EXPECT_EQ(g[i], w) << "channel " << ch << " datagram " << i;
    }
  }
}

std::uint64_t counter(const std::string& log, const std::string& name) {
  std::smatch m;
  if (!std::regex_search(log, m, std::regex("\\n  " + name + " +([0-9]+) "))) return 0;
  return std::stoull(m[1]);
}

class DescrambleLab : public ::testing::Test {
 protected:
  std::filesystem::path file(const std::string& name) const { return dir_.path() / name; }

  void start_keymgr(std::uint32_t lifetime_ms, std::uint32_t grace_ms = 2000) {
    std::filesystem::create_directories(file("km"));
    km_ = KeymgrProcess::start(file("km"), keymgr_config(lifetime_ms, grace_ms));
    ASSERT_TRUE(km_);
  }

  // One gateway run on in → out (pcap files in the test directory).
  GatewayRun run(const std::string& config_text, const std::string& in, const std::string& out) {
    std::ofstream(file("gateway.toml")) << config_text;
    write_pcap(file("empty.pcap"), {});
    auto a = eal_args({"net_pcap0,rx_pcap=" + file(in).string() + ",tx_pcap=" + file("back-" + out).string(),
                       "net_pcap1,rx_pcap=" + file("empty.pcap").string() + ",tx_pcap=" + file(out).string()});
    a.insert(a.end(), {"--", "--config", file("gateway.toml").string(), "--idle-exit", "500"});
    auto r = run_gateway(a, milliseconds(30000));
    EXPECT_EQ(r.exit_code, 0) << r.output << "\n--- keymgr:\n" << km_->log();
    EXPECT_TRUE(read_pcap(file("back-" + out)).empty()) << "nothing goes back out of the input port";
    return r;
  }

  kmclient::KeymgrClient client() {
    kmclient::ClientConfig c;
    c.endpoints.push_back({"127.0.0.1", km_->port()});
    c.role = kmproto::Role::gateway;
    c.peer_id = "gw1";
    c.auth_token = "gw1-lab-token";
    return kmclient::KeymgrClient(c);
  }

  // The key manager's current key of channel ch, prepared.
  std::unique_ptr<pktparse::PreparedKey> current_key(std::uint32_t ch) {
    auto records = client().request_keys(ch);
    EXPECT_TRUE(records) << records.error().message;
    if (!records) return nullptr;
    for (const auto& rec : *records) {
      if (rec.state != kmproto::KeyState::current) continue;
      auto key = std::make_unique<pktparse::PreparedKey>();
      EXPECT_EQ(key->prepare(static_cast<pktparse::Suite>(rec.suite), rec.key_id, rec.material()), pktparse::Status::ok);
      return key;
    }
    ADD_FAILURE() << "no current key for channel " << ch;
    return nullptr;
  }

  void TearDown() override { remove_runtime_dirs(); }

  TempDir dir_;
  std::unique_ptr<KeymgrProcess> km_;
};

Frame on_scrambled_group(std::uint32_t ch, const Bytes& udp) {
  UdpSpec spec;
  spec.src = ip("10.0.0.1");
  spec.dst = ip("239.2.1." + std::to_string(ch));
  return udp_frame(spec, udp);
}

// A scrambled frame on channel ch's scrambled group, made here with pktparse;
// `tlvs` gives the header's TLVs.
Frame scrambled_frame(pktparse::PreparedKey& key, std::uint32_t ch, std::uint64_t seq, const Bytes& clear,
                      pktparse::KcHeader h = {}) {
  h.channel_id = ch;
  h.seq = seq;
  const std::size_t hdr_len = pktparse::header_len(h);
  Bytes udp(hdr_len + clear.size() + 16);
  std::memcpy(udp.data() + hdr_len, clear.data(), clear.size());
  const pktparse::Status s = pktparse::scramble(key, {}, h, udp.data(), udp.data() + hdr_len, clear.size());
  EXPECT_EQ(s, pktparse::Status::ok);
  if (key.suite() != pktparse::Suite::aes128_gcm) udp.resize(hdr_len + clear.size());
  return on_scrambled_group(ch, udp);
}

// A KEY_NOTICE for `channel_id` on channel ch's scrambled group.
Frame notice_frame(std::uint32_t ch, std::uint32_t channel_id, pktparse::Suite suite, std::uint32_t current,
                   std::uint32_t next) {
  const pktparse::KcHeader h = pktparse::make_key_notice(channel_id, suite, current, next, 1000);
  Bytes udp(pktparse::header_len(h));
  pktparse::encode_header(h, udp.data());
  return on_scrambled_group(ch, udp);
}

TEST_F(DescrambleLab, ScrambleThenDescrambleGivesTheInputBack) {
  start_keymgr(10000);
  const ClearInput in = make_clear_input(20);
  write_pcap(file("clear.pcap"), in.frames);
  (void)run(scramble_config(km_->port()), "clear.pcap", "scrambled.pcap");
  const auto scrambled = read_pcap(file("scrambled.pcap"));
  ASSERT_EQ(scrambled.size(), in.frames.size());

  const auto r = run(descramble_config(km_->port()), "scrambled.pcap", "out.pcap");
  expect_same_frames(in, read_pcap(file("out.pcap")), r.output);
  EXPECT_EQ(counter(r.output, "descrambled"), in.frames.size()) << r.output;
  EXPECT_EQ(counter(r.output, "held"), 0u) << r.output;
}

// The descrambler's output on a net_tap port (UDP checksum offload, done in
// software by the tap PMD): the frames on the tap interface are the input
// frames again, checksums included.
TEST_F(DescrambleLab, UdpChecksumsLeftToAPortThatOffersThem) {
  if (!TapCapture::usable()) GTEST_SKIP() << "needs root and /dev/net/tun for net_tap";
  start_keymgr(10000);
  const ClearInput in = make_clear_input(20);
  write_pcap(file("clear.pcap"), in.frames);
  (void)run(scramble_config(km_->port()), "clear.pcap", "scrambled.pcap");

  TapCapture capture;
  const std::string iface = TapCapture::iface_name("ds");
  std::ofstream(file("gateway.toml")) << descramble_config(km_->port());
  auto a = eal_args({"net_pcap0,rx_pcap=" + file("scrambled.pcap").string() + ",tx_pcap=" + file("back.pcap").string(),
                     "net_tap0,iface=" + iface});
  a.insert(a.end(), {"--", "--config", file("gateway.toml").string(), "--idle-exit", "500"});
  GatewayChild gw(a);
  ASSERT_TRUE(gw.wait_for("computes the UDP checksums (TX offload)", milliseconds(20000))) << gw.output();
  capture.watch(iface);
  const GatewayRun r = gw.finish(0, milliseconds(30000));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  expect_same_frames(in, capture.frames(), r.output);
}

// A descrambler started just after a key change, its input still under the
// key before (as af_packet's ring holds datagrams from before the keys were
// asked for): that key was fetched with the current one at start, so no
// datagram is held for a fetch by id.
TEST_F(DescrambleLab, PreviousKeyIsTakenAtStart) {
  start_keymgr(3000, 10000);  // the previous key served for 10 s after its end
  ClearInput in = make_clear_input(10);
  write_pcap(file("clear.pcap"), in.frames);
  const auto before = current_key(1);
  ASSERT_TRUE(before);
  std::string scramble = scramble_config(km_->port());
  scramble.replace(scramble.find("lifetime_ms = 10000"), 19, "lifetime_ms = 3000");
  (void)run(scramble, "clear.pcap", "scrambled.pcap");
  // Until channel 1's key changes (3 s keys), then at once: the descrambler
  // asks for its keys well within the 2 s after the change.
  bool changed = false;
  for (int i = 0; i < 250 && !changed; ++i) {
    const auto now = current_key(1);
    ASSERT_TRUE(now);
    changed = now->key_id() != before->key_id();
    if (!changed) std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_TRUE(changed) << "channel 1's 3 s key did not change within 5 s";
  // Channel 4's keys (the scrambler's) end unreplaced once it stopped: left out.
  in.expected.erase(4);
  const auto r = run(descramble_config(km_->port(), 64, 50, {1, 2, 3, 5}), "scrambled.pcap", "out.pcap");
  expect_same_frames(in, read_pcap(file("out.pcap")), r.output);
  EXPECT_EQ(counter(r.output, "held"), 0u) << r.output;
  EXPECT_EQ(r.output.find("not held: asking"), std::string::npos) << r.output;
}

// Scrambled input on a net_tap port, which checks UDP checksums (in
// software): channel 1's datagrams (aes128-ctr, no tag to catch damage) with
// a flipped bit and the checksum left as it was are dropped and counted, not
// descrambled into wrong clear datagrams with a right checksum; the others
// all come out.
TEST_F(DescrambleLab, DropsDatagramsWhoseUdpChecksumTheInputPortFindsWrong) {
  if (!TapCapture::usable()) GTEST_SKIP() << "needs root and /dev/net/tun for net_tap";
  start_keymgr(10000);
  ClearInput in = make_clear_input(12);
  write_pcap(file("clear.pcap"), in.frames);
  (void)run(scramble_config(km_->port()), "clear.pcap", "scrambled.pcap");

  TapCapture tap;
  const std::string iface = TapCapture::iface_name("di");
  std::ofstream(file("gateway.toml")) << descramble_config(km_->port());
  write_pcap(file("empty.pcap"), {});
  auto a = eal_args({"net_tap0,iface=" + iface,
                     "net_pcap0,rx_pcap=" + file("empty.pcap").string() + ",tx_pcap=" + file("out.pcap").string()});
  a.insert(a.end(), {"--", "--config", file("gateway.toml").string(), "--idle-exit", "1000"});
  GatewayChild gw(a);
  ASSERT_TRUE(gw.wait_for("port 0 checks UDP checksums (RX offload)", milliseconds(20000))) << gw.output();
  tap.watch(iface);
  // The kernel's own IPv6 frames (router solicitations) would hold off --idle-exit.
  std::ofstream("/proc/sys/net/ipv6/conf/" + iface + "/disable_ipv6") << "1\n";

  std::vector<Frame> kept;  // channel 1's clear frames that are not damaged
  std::size_t data = 0, wrong = 0;
  for (Frame f : read_pcap(file("scrambled.pcap"))) {
    pktparse::PacketView v;
    pktparse::KcHeader h;
    ASSERT_EQ(pktparse::parse_frame(f, v), pktparse::Status::ok);
    ASSERT_EQ(pktparse::parse_header({f.data() + v.payload_offset, v.payload_len}, h), pktparse::Status::ok);
    if (h.type == pktparse::MsgType::data && h.channel_id == 1) {
      if (data % 3 == 1) {
        f[v.payload_offset + h.hdr_len + data] ^= 0x04;
        ++wrong;
      } else {
        kept.push_back(in.expected[1][data]);
      }
      ++data;
    }
    ASSERT_TRUE(tap.send(f));
  }
  ASSERT_EQ(data, in.expected[1].size());
  in.expected[1] = kept;
  const GatewayRun r = gw.finish(0, milliseconds(30000));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(counter(r.output, "udp_checksum_bad"), wrong) << r.output;
  expect_same_frames(in, read_pcap(file("out.pcap")), r.output);
}

// Channel 4's keys are made by the scrambler (KEY_GENERATE). The input is
// scrambled under key K1; a second scrambler run makes K2 current more than
// the 2 s grace period before the descrambler starts, so its start-up fetch
// gets K2 only. Channel 4's datagrams wait in the hold queue while K1 is
// fetched by id, then all come out.
TEST_F(DescrambleLab, UnknownKeyIsFetchedWhileItsDatagramsAreHeld) {
  start_keymgr(10000, 20000);  // K1 stays at the key manager after K2 replaces it
  const ClearInput in = make_clear_input(20);
  write_pcap(file("clear.pcap"), in.frames);
  (void)run(scramble_config(km_->port()), "clear.pcap", "scrambled.pcap");
  (void)run(scramble_config(km_->port()), "clear.pcap", "scrambled-again.pcap");
  std::this_thread::sleep_for(milliseconds(2000));

  const auto r = run(descramble_config(km_->port()), "scrambled.pcap", "out.pcap");
  expect_same_frames(in, read_pcap(file("out.pcap")), r.output);
  EXPECT_GT(counter(r.output, "held"), 0u) << r.output;
  EXPECT_EQ(counter(r.output, "released"), counter(r.output, "held")) << r.output;
  EXPECT_GE(counter(r.output, "unknown_key_requests"), 1u) << r.output;
  EXPECT_EQ(counter(r.output, "hold_timeout") + counter(r.output, "hold_overflow"), 0u) << r.output;
}

// Datagrams under a key the key manager never had: four are held, the rest
// overflow, the four time out; nothing is forwarded.
TEST_F(DescrambleLab, KeyNobodyHasOverflowsAndTimesOut) {
  start_keymgr(10000);
  auto c = client();
  auto keys = c.request_keys(1);
  ASSERT_TRUE(keys) << keys.error().message;
  std::uint32_t current = 0;
  for (const auto& k : *keys)
    if (k.state == kmproto::KeyState::current) current = k.key_id;
  ASSERT_NE(current, 0u);
  pktparse::PreparedKey forged;
  const Bytes material = raw_payload(16, 99);
  ASSERT_EQ(forged.prepare(pktparse::Suite::aes128_ctr, current + 3, material), pktparse::Status::ok);
  std::vector<Frame> frames;
  for (std::uint64_t i = 0; i < 40; ++i) frames.push_back(scrambled_frame(forged, 1, i + 1, raw_payload(300, static_cast<std::uint32_t>(i))));
  write_pcap(file("forged.pcap"), frames);

  const auto r = run(descramble_config(km_->port(), 4, 50, {1, 2, 3, 5}), "forged.pcap", "out.pcap");
  EXPECT_TRUE(read_pcap(file("out.pcap")).empty());
  EXPECT_EQ(counter(r.output, "held"), 4u) << r.output;
  EXPECT_EQ(counter(r.output, "hold_overflow"), 36u) << r.output;
  EXPECT_EQ(counter(r.output, "hold_timeout"), 4u) << r.output;
  EXPECT_EQ(counter(r.output, "released"), 0u) << r.output;
  EXPECT_EQ(counter(r.output, "descrambled"), 0u) << r.output;
  EXPECT_GE(counter(r.output, "unknown_key_requests"), 1u) << r.output;
}

// A GCM datagram with a flipped tag byte and one with a broken keycast magic
// are dropped and counted; their good neighbours pass.
TEST_F(DescrambleLab, TamperedAndMalformedDatagramsAreDropped) {
  start_keymgr(10000);
  auto c = client();
  std::map<std::uint32_t, std::unique_ptr<pktparse::PreparedKey>> key;
  for (const std::uint32_t ch : {1u, 3u}) {
    auto records = c.request_keys(ch);
    ASSERT_TRUE(records) << records.error().message;
    for (const auto& rec : *records) {
      if (rec.state != kmproto::KeyState::current) continue;
      key[ch] = std::make_unique<pktparse::PreparedKey>();
      ASSERT_EQ(key[ch]->prepare(static_cast<pktparse::Suite>(rec.suite), rec.key_id, rec.material()),
                pktparse::Status::ok);
    }
    ASSERT_TRUE(key[ch]);
  }
  Frame good1 = scrambled_frame(*key[1], 1, 1, raw_payload(200, 1));
  Frame bad_magic = scrambled_frame(*key[1], 1, 2, raw_payload(200, 2));
  Frame good3 = scrambled_frame(*key[3], 3, 1, raw_payload(200, 3));
  Frame tampered = scrambled_frame(*key[3], 3, 2, raw_payload(200, 4));
  pktparse::PacketView v;
  ASSERT_EQ(pktparse::parse_frame(bad_magic, v), pktparse::Status::ok);
  bad_magic[v.payload_offset] ^= 0x01;
  tampered.back() ^= 0x01;  // inside the tag; the UDP checksum is not what the gateway checks
  write_pcap(file("mixed.pcap"), {good1, bad_magic, good3, tampered});

  const auto r = run(descramble_config(km_->port(), 64, 50, {1, 3}), "mixed.pcap", "out.pcap");
  const auto out = read_pcap(file("out.pcap"));
  ASSERT_EQ(out.size(), 2u) << r.output;
  EXPECT_EQ(clear_channel(out[0]), 1u);
  EXPECT_EQ(clear_channel(out[1]), 3u);
  EXPECT_EQ(counter(r.output, "gcm_auth_failed"), 1u) << r.output;
  EXPECT_EQ(counter(r.output, "kc_bad_magic"), 1u) << r.output;
  EXPECT_EQ(counter(r.output, "descrambled"), 2u) << r.output;
}

// GCM: a datagram replayed (same key and seq) is delivered once; the others
// pass in order.
TEST_F(DescrambleLab, ReplayedGcmDatagramsAreDeliveredOnce) {
  start_keymgr(10000);
  auto key = current_key(3);
  ASSERT_TRUE(key);
  std::vector<Frame> frames;
  for (std::uint64_t seq = 1; seq <= 4; ++seq) frames.push_back(scrambled_frame(*key, 3, seq, raw_payload(200, static_cast<std::uint32_t>(40 + seq))));
  const std::vector<Frame> wire = {frames[0], frames[1], frames[1], frames[2], frames[0], frames[3], frames[2]};
  write_pcap(file("replayed.pcap"), wire);

  const auto r = run(descramble_config(km_->port(), 64, 50, {3}), "replayed.pcap", "out.pcap");
  EXPECT_EQ(read_pcap(file("out.pcap")).size(), 4u) << r.output;
  EXPECT_EQ(counter(r.output, "descrambled"), 4u) << r.output;
  EXPECT_EQ(counter(r.output, "replayed"), 3u) << r.output;
}

// Forged datagrams and notices cannot make the descrambler fetch keys far
// from the ones it holds, nor redirect it (KEYMGR_ADDR is not acted on: its
// key manager is the configured one), nor hold up the channel's good
// datagrams.
TEST_F(DescrambleLab, ForgedKeyIdsAndNoticesAreRefusedWithoutFetching) {
  start_keymgr(10000);
  auto key = current_key(1);
  ASSERT_TRUE(key);
  const std::uint32_t cur = key->key_id();  // cur - 5 may wrap: ids compare modulo 2^32
  pktparse::PreparedKey ahead, behind;
  const Bytes material = raw_payload(16, 7);
  ASSERT_EQ(ahead.prepare(pktparse::Suite::aes128_ctr, cur + 100, material), pktparse::Status::ok);
  ASSERT_EQ(behind.prepare(pktparse::Suite::aes128_ctr, cur - 5, material), pktparse::Status::ok);
  pktparse::KcHeader elsewhere;
  elsewhere.set(pktparse::TlvType::keymgr_addr4);
  elsewhere.keymgr4.addr[0] = 192, elsewhere.keymgr4.addr[1] = 0, elsewhere.keymgr4.addr[2] = 2, elsewhere.keymgr4.addr[3] = 9;
  elsewhere.keymgr4.port = 7700;
  write_pcap(file("forged.pcap"), {
      scrambled_frame(ahead, 1, 1, raw_payload(200, 1)),
      notice_frame(1, 1, pktparse::Suite::aes128_ctr, cur, cur + 100),
      scrambled_frame(behind, 1, 2, raw_payload(200, 2)),
      notice_frame(1, 9, pktparse::Suite::aes128_ctr, cur, cur + 1),  // another channel's id on channel 1's group
      scrambled_frame(*key, 1, 3, raw_payload(200, 3), elsewhere),
      scrambled_frame(*key, 1, 4, raw_payload(200, 4)),
  });

  const auto r = run(descramble_config(km_->port(), 64, 50, {1}), "forged.pcap", "out.pcap");
  EXPECT_EQ(read_pcap(file("out.pcap")).size(), 2u) << r.output;
  EXPECT_EQ(counter(r.output, "descrambled"), 2u) << r.output;
  EXPECT_EQ(counter(r.output, "key_too_far_ahead"), 2u) << r.output;
  EXPECT_EQ(counter(r.output, "key_too_old"), 1u) << r.output;
  EXPECT_EQ(counter(r.output, "channel_mismatch"), 1u) << r.output;
  EXPECT_EQ(counter(r.output, "unknown_key_requests"), 0u) << r.output;
  EXPECT_EQ(counter(r.output, "key_resyncs"), 1u) << r.output;  // "which keys are current?", once
  EXPECT_EQ(counter(r.output, "held"), 0u) << r.output;
}

// A flood of datagrams under ever other key ids (inside the window, no key
// manager has them) spends the channel's fetch budget: the key manager is
// asked a bounded number of times, and the rest is counted (each held
// datagram asks; the hold queue takes 64).
TEST_F(DescrambleLab, FetchesPromptedByForgedKeyIdsAreRateLimited) {
  start_keymgr(10000);
  auto key = current_key(1);
  ASSERT_TRUE(key);
  const std::uint32_t cur = key->key_id();
  std::vector<Frame> frames;
  for (std::uint32_t i = 0; i < 200; ++i) {
    pktparse::PreparedKey forged;
    const std::uint32_t id = cur + 2 + i % 14;  // never twice in a row
    EXPECT_EQ(forged.prepare(pktparse::Suite::aes128_ctr, id, raw_payload(16, i)), pktparse::Status::ok);
    frames.push_back(scrambled_frame(forged, 1, i + 1, raw_payload(100, i)));
  }
  write_pcap(file("flood.pcap"), frames);

  const auto r = run(descramble_config(km_->port(), 64, 50, {1}), "flood.pcap", "out.pcap");
  EXPECT_TRUE(read_pcap(file("out.pcap")).empty()) << r.output;
  const std::uint64_t asked = counter(r.output, "unknown_key_requests");
  EXPECT_GE(asked, 1u) << r.output;
  EXPECT_LE(asked, 16u + 20u) << r.output;  // the burst, and at most a second of refill
  EXPECT_GT(counter(r.output, "key_requests_rate_limited"), 0u) << r.output;
}

}  // namespace
}  // namespace gateway::test
