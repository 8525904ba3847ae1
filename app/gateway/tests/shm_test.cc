// keys.shm: the gateway reads its keys from the shared memory the key manager
// on this host publishes, with no key manager endpoint. KeyFetcher against a
// ShmWriter (records exactly as KEY_REQUEST states them, reopen after a
// writer restart), then end to end on net_pcap ports without hugepages with
// the real key manager: every datagram scrambled with the key the key manager
// holds (fetched over TCP to check), the gateway started before the key
// manager, key switches under a continuous stream never degraded, no object
// → exit 3 naming it, and a descrambler on shared memory giving the input
// back.
#include <gtest/gtest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <thread>

#include "frames.h"
#include "gateway_process.h"
#include "key_source.h"
#include "keymgr_process.h"
#include "keyshm/keyshm.h"
#include "kmclient/client.h"
#include "pcap_file.h"
#include "pktparse/key.h"
#include "pktparse/keycast_header.h"
#include "pktparse/net.h"
#include "pktparse/scramble.h"
#include "test_client.h"
#include "test_configs.h"

namespace gateway::test {
namespace {

using keymgr::test::KeymgrProcess;
using keymgr::test::TempDir;
using std::chrono::milliseconds;
using Bytes = std::vector<std::uint8_t>;
using kmproto::KeyState;

// A shared-memory name unique to this process, unlinked at the end.
struct UniqueShm {
  std::string name;
  UniqueShm() {
    static int n = 0;
    name = "keycast-gwtest-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
  }
  ~UniqueShm() { ::shm_unlink(("/" + name).c_str()); }
};

// ---- KeyFetcher over a writer of this process ----

keyshm::Key shm_key(std::uint32_t id, keyshm::KeyState state, std::uint64_t not_before, std::uint8_t fill) {
  keyshm::Key k;
  k.key_id = id;
  k.suite = static_cast<std::uint8_t>(pktparse::Suite::aes128_ctr);
  k.state = state;
  k.lifetime_ms = 1000;
  k.not_before_ms = not_before;
  const Bytes material(16, fill);
  EXPECT_TRUE(k.set_material(material));
  return k;
}

struct FetcherLab {
  UniqueShm shm;
  std::uint64_t now = 1'000'000;
  KeySource source;
  std::unique_ptr<keyshm::ShmWriter> writer;
  std::unique_ptr<KeyFetcher> fetcher;

  FetcherLab() {
    source.shm = shm.name;
    fetcher = std::make_unique<KeyFetcher>(source, nullptr, [this] { return now; });
  }
  void create_writer() {
    const std::uint32_t ids[] = {7};
    keyshm::Failure why;
    writer = keyshm::ShmWriter::create(shm.name, ids, &why);
    ASSERT_TRUE(writer) << why.message;
  }
  // Key 2 current since now - 300, key 3 next at now + 700, key 1 previous.
  void publish_three(std::uint32_t first = 1) {
    const keyshm::Key keys[] = {shm_key(first + 1, keyshm::KeyState::current, now - 300, 0x22),
                                shm_key(first + 2, keyshm::KeyState::next, now + 700, 0x33),
                                shm_key(first, keyshm::KeyState::previous, now - 1300, 0x11)};
    ASSERT_EQ(writer->publish(7, keys), keyshm::PublishResult::written);
  }
};

TEST(KeyFetcher, StatesRecordsAsKeyRequestDoes) {
  FetcherLab lab;
  lab.create_writer();
  lab.publish_three();
  auto keys = lab.fetcher->request_keys(7);
  ASSERT_TRUE(keys) << keys.error().message;
  ASSERT_EQ(keys->size(), 2u) << "KEY_REQUEST without key_id: current and next";
  const kmproto::KeyRecord& cur = (*keys)[0];
  EXPECT_EQ(cur.channel_id, 7u);
  EXPECT_EQ(cur.key_id, 2u);
  EXPECT_EQ(cur.state, KeyState::current);
  EXPECT_EQ(cur.suite, static_cast<std::uint8_t>(pktparse::Suite::aes128_ctr));
  EXPECT_EQ(cur.lifetime_ms, 1000u);
  EXPECT_EQ(cur.remaining_ms, 700u);
  EXPECT_EQ(cur.not_before_ms, 0u) << "0 once started";
  EXPECT_EQ(cur.material().size(), 16u);
  EXPECT_EQ(cur.material()[0], 0x22);
  const kmproto::KeyRecord& next = (*keys)[1];
  EXPECT_EQ(next.key_id, 3u);
  EXPECT_EQ(next.state, KeyState::next);
  EXPECT_EQ(next.remaining_ms, 1000u) << "a next key: its lifetime";
  EXPECT_EQ(next.not_before_ms, lab.now + 700);

  auto prev = lab.fetcher->request_key(7, 1);
  ASSERT_TRUE(prev) << prev.error().message;
  EXPECT_EQ(prev->state, KeyState::previous);
  EXPECT_EQ(prev->remaining_ms, 0u);
  EXPECT_EQ(prev->material()[0], 0x11);
  auto none = lab.fetcher->request_key(7, 9);
  ASSERT_FALSE(none);
  EXPECT_TRUE(none.error().is(kmproto::ErrorCode::unknown_key)) << none.error().message;
  auto other = lab.fetcher->request_keys(8);
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().message.find("channel 8: no slot"), std::string::npos) << other.error().message;

  // The slot is older than key 3's start: key 3 is current, key 2 previous.
  lab.now += 750;
  keys = lab.fetcher->request_keys(7);
  ASSERT_TRUE(keys) << keys.error().message;
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].key_id, 3u);
  EXPECT_EQ((*keys)[0].state, KeyState::current);
  EXPECT_EQ((*keys)[0].remaining_ms, 950u);
  prev = lab.fetcher->request_key(7, 2);
  ASSERT_TRUE(prev);
  EXPECT_EQ(prev->state, KeyState::previous);

  const kmclient::KeyQuery queries[] = {{7, 0}, {7, 3}, {8, 0}};
  auto many = lab.fetcher->request_many(queries);
  ASSERT_TRUE(many) << many.error().message;
  ASSERT_EQ(many->size(), 3u);
  EXPECT_TRUE((*many)[0] && (*many)[1] && !(*many)[2]);
}

TEST(KeyFetcher, WaitsForTheObjectAndReopensAfterARestart) {
  FetcherLab lab;
  auto missing = lab.fetcher->request_keys(7);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("/" + lab.shm.name), std::string::npos) << missing.error().message;
  const kmclient::KeyQuery q[] = {{7, 0}};
  EXPECT_FALSE(lab.fetcher->request_many(q)) << "no object: the whole batch fails";

  lab.create_writer();
  lab.publish_three();
  auto keys = lab.fetcher->request_keys(7);
  ASSERT_TRUE(keys) << keys.error().message;
  EXPECT_EQ((*keys)[0].key_id, 2u);

  // A new writer replaces the object while the old one lives on (a key
  // manager restarted after kill -9).
  auto old = std::move(lab.writer);
  lab.create_writer();
  lab.publish_three(10);
  keys = lab.fetcher->request_keys(7);
  ASSERT_TRUE(keys) << keys.error().message;
  EXPECT_EQ((*keys)[0].key_id, 11u);
  old.reset();

  // Closed and removed: an error, then the keys again once it is back.
  lab.writer.reset();
  EXPECT_FALSE(lab.fetcher->request_keys(7));
  lab.create_writer();
  lab.publish_three(20);
  keys = lab.fetcher->request_keys(7);
  ASSERT_TRUE(keys) << keys.error().message;
  EXPECT_EQ((*keys)[0].key_id, 21u);
}

// ---- The gateway on shared memory, end to end ----

constexpr std::uint32_t kChannels[] = {1, 2, 3};  // keymgr-origin lab channels: aes128-ctr raw, xor TS, GCM raw
const char* shm_suite_of(std::uint32_t ch) { return ch == 1 ? "aes128-ctr" : ch == 2 ? "xor" : "aes128-gcm"; }

// The lab key manager with `shm = NAME` for gw1.
std::string keymgr_config(const std::string& shm, std::uint32_t lifetime_ms) {
  keymgr::test::ConfigOptions o;
  o.lifetime_ms = lifetime_ms;
  std::string s = keymgr::test::lab_config(o);
  const std::string gw1 = "id = \"gw1\"\nrole = \"gateway\"\n";
  s.insert(s.find(gw1) + gw1.size(), "shm = \"" + shm + "\"\n");
  return s;
}

// Channel n clear on 239.1.1.n:5000, scrambled on 239.2.1.n:5000; keys.shm
// and no endpoints.
std::string gateway_config(Mode mode, const std::string& shm, std::uint32_t startup_timeout_ms) {
  const bool scramble = mode == Mode::scramble;
  std::string s = std::string("mode = \"") + (scramble ? "scramble" : "descramble") +
                  "\"\n[ports]\ninput = 0\noutput = 1\nmbufs = 4095\n[keys]\nshm = \"" + shm +
                  "\"\nstartup_timeout_ms = " + std::to_string(startup_timeout_ms) + "\n";
  for (const std::uint32_t ch : kChannels) {
    const std::string clear = "\"239.1.1." + std::to_string(ch) + ":5000\"";
    const std::string scrambled = "\"239.2.1." + std::to_string(ch) + ":5000\"";
    s += "\n[[channel]]\nid = " + std::to_string(ch) + "\ninput = " + (scramble ? clear : scrambled) +
         "\noutput = " + (scramble ? scrambled : clear) + "\nsuite = \"" + shm_suite_of(ch) + "\"\npayload = \"" +
         (ch == 2 ? "ts" : "raw") + "\"\n";
  }
  return s;
}

struct ShmInput {
  std::vector<Frame> frames;
  std::map<std::uint32_t, std::vector<Bytes>> payloads;  // per channel, in order
};

ShmInput make_shm_input(std::size_t per_channel) {
  ShmInput in;
  for (std::size_t i = 0; i < per_channel; ++i)
    for (const std::uint32_t ch : kChannels) {
      const auto seed = static_cast<std::uint32_t>(i * 10 + ch);
      Bytes payload = ch == 2 ? ts_payload(7, static_cast<std::uint8_t>(i), seed) : raw_payload(200 + i * 37, seed);
      UdpSpec spec;
      spec.src = ip("10.0.0.1");
      spec.dst = ip("239.1.1." + std::to_string(ch));
      in.frames.push_back(udp_frame(spec, payload));
      in.payloads[ch].push_back(std::move(payload));
    }
  return in;
}

// Channel n's UDP payloads sent to 239.<group_octet>.1.n (DATA and notices).
std::map<std::uint32_t, std::vector<Bytes>> payloads_by_channel(const std::vector<Frame>& frames,
                                                                std::uint8_t group_octet) {
  std::map<std::uint32_t, std::vector<Bytes>> out;
  for (Frame f : frames) {
    pktparse::PacketView v;
    if (pktparse::parse_frame(f, v) != pktparse::Status::ok || v.dst.family != 4 || v.dst.bytes[1] != group_octet) {
      ADD_FAILURE() << "a frame that is not a channel's output";
      continue;
    }
    out[v.dst.bytes[3]].emplace_back(f.data() + v.payload_offset, f.data() + v.payload_offset + v.payload_len);
  }
  return out;
}

// Descrambles with the keys the key manager gives over TCP (KEY_REQUEST by
// key_id as peer gw1).
class TcpKeys {
 public:
  explicit TcpKeys(std::uint16_t port) : client_(port) {
    const auto a = client_.hello(1, "gw1", "gw1-lab-token");
    EXPECT_TRUE(a && a->error_code() == 0);
  }
  // The clear payloads of one channel's datagrams (notices skipped); failures
  // are test failures.
  std::vector<Bytes> descramble(std::uint32_t ch, std::vector<Bytes> datagrams, std::set<std::uint32_t>* key_ids) {
    std::vector<Bytes> out;
    for (Bytes& udp : datagrams) {
      pktparse::KcHeader h;
      if (const auto s = pktparse::parse_header(udp, h); s != pktparse::Status::ok) {
        ADD_FAILURE() << "channel " << ch << ": keycast header: " << pktparse::status_text(s);
        continue;
      }
      EXPECT_EQ(h.channel_id, ch);
      if (h.type == pktparse::MsgType::key_notice) continue;
      key_ids->insert(h.key_id);
      auto& key = keys_[{ch, h.key_id}];
      if (!key) {
        const auto a = client_.key_request(ch, h.key_id);
        const auto records = a ? a->key_records() : std::vector<kmproto::KeyRecord>{};
        if (records.size() != 1) {
          ADD_FAILURE() << "channel " << ch << ": the key manager does not serve key " << h.key_id;
          continue;
        }
        key = std::make_unique<pktparse::PreparedKey>();
        EXPECT_EQ(key->prepare(h.suite, h.key_id, records[0].material()), pktparse::Status::ok);
      }
      std::span<std::uint8_t> clear;
      if (const auto s = pktparse::descramble(*key, h, udp, clear); s != pktparse::Status::ok) {
        ADD_FAILURE() << "channel " << ch << ": descramble: " << pktparse::status_text(s);
        continue;
      }
      out.emplace_back(clear.begin(), clear.end());
    }
    return out;
  }

 private:
  keymgr::test::TestClient client_;
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::unique_ptr<pktparse::PreparedKey>> keys_;
};

class ShmGateway : public ::testing::Test {
 protected:
  std::filesystem::path file(const std::string& name) const { return dir_.path() / name; }

  void start_keymgr(std::uint32_t lifetime_ms) {
    std::filesystem::create_directories(file("km"));
    km_ = KeymgrProcess::start(file("km"), keymgr_config(shm_.name, lifetime_ms));
    ASSERT_TRUE(km_);
  }

  std::vector<std::string> args(const std::string& config_text, const std::vector<std::string>& vdevs,
                                std::uint32_t idle_exit_ms) {
    const auto config = file("gateway" + std::to_string(configs_++) + ".toml");
    std::ofstream(config) << config_text;
    auto a = eal_args(vdevs);
    a.insert(a.end(), {"--", "--config", config.string()});
    if (idle_exit_ms) a.insert(a.end(), {"--idle-exit", std::to_string(idle_exit_ms)});
    return a;
  }

  // rx from `in`, tx of the output port to `out`.
  std::vector<std::string> pcap_pipe(const std::string& in, const std::string& out) {
    write_pcap(file("empty.pcap"), {});
    return {"net_pcap0,rx_pcap=" + file(in).string() + ",tx_pcap=" + file("back.pcap").string(),
            "net_pcap1,rx_pcap=" + file("empty.pcap").string() + ",tx_pcap=" + file(out).string()};
  }

  void TearDown() override { remove_runtime_dirs(); }

  TempDir dir_;
  UniqueShm shm_;
  std::unique_ptr<KeymgrProcess> km_;
  int configs_ = 0;
};

// Started before the key manager: the gateway says it waits for the object,
// then scrambles every datagram with the key the key manager holds.
TEST_F(ShmGateway, ScramblesWithTheKeysTheKeyManagerPublishes) {
  const ShmInput in = make_shm_input(20);
  write_pcap(file("in.pcap"), in.frames);
  GatewayChild gw(args(gateway_config(Mode::scramble, shm_.name, 15000), pcap_pipe("in.pcap", "out.pcap"), 500));
  ASSERT_TRUE(gw.wait_for("no shared-memory object /" + shm_.name, milliseconds(10000))) << gw.output();
  start_keymgr(10000);
  const GatewayRun run = gw.finish(0, milliseconds(30000));
  ASSERT_EQ(run.exit_code, 0) << run.output << "\n--- keymgr:\n" << km_->log();
  EXPECT_NE(run.output.find("keys.shm: reading keys from shared memory /" + shm_.name), std::string::npos)
      << run.output;
  const std::string no_reports = "no endpoints: usage reports are not sent";
  const auto at = run.output.find(no_reports);
  EXPECT_NE(at, std::string::npos) << run.output;
  EXPECT_EQ(run.output.find(no_reports, at + 1), std::string::npos) << "said once";

  TcpKeys keys(km_->port());
  auto out = payloads_by_channel(read_pcap(file("out.pcap")), 2);
  for (const std::uint32_t ch : kChannels) {
    std::set<std::uint32_t> ids;
    EXPECT_EQ(keys.descramble(ch, out[ch], &ids), in.payloads.at(ch)) << "channel " << ch;
    EXPECT_EQ(ids.size(), 1u) << "channel " << ch << ": one 10 s key";
  }
  EXPECT_TRUE(read_pcap(file("back.pcap")).empty());
}

// 1 s lifetimes, a continuous stream into net_null: every channel switches
// keys in the worker, never degraded, and no usage report is attempted.
TEST_F(ShmGateway, SwitchesKeysUnderAContinuousStream) {
  start_keymgr(1000);
  write_pcap(file("in.pcap"), make_shm_input(4).frames);
  const std::vector<std::string> vdevs = {endless_input_vdev(file("in.pcap")), "net_null0"};
  const auto run = run_gateway(args(gateway_config(Mode::scramble, shm_.name, 5000), vdevs, 0), milliseconds(30000),
                               milliseconds(3500));
  ASSERT_EQ(run.exit_code, 0) << run.output << "\n--- keymgr:\n" << km_->log();
  for (const std::uint32_t ch : kChannels) {
    const std::regex switched("channel " + std::to_string(ch) + ": switched from key");
    EXPECT_GE(std::distance(std::sregex_iterator(run.output.begin(), run.output.end(), switched),
                            std::sregex_iterator()),
              2)
        << "channel " << ch << "\n" << run.output;
  }
  EXPECT_EQ(run.output.find("degraded"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("notices_sent"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("usage report for"), std::string::npos) << run.output;
  EXPECT_EQ(run.output.find("usage report given up"), std::string::npos) << run.output;
}

TEST_F(ShmGateway, WithoutTheObjectExitsNamingIt) {
  write_pcap(file("in.pcap"), make_shm_input(2).frames);
  const auto t0 = std::chrono::steady_clock::now();
  const auto run =
      run_gateway(args(gateway_config(Mode::scramble, shm_.name, 1500), pcap_pipe("in.pcap", "out.pcap"), 500),
                  milliseconds(30000));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, milliseconds(1500));
  EXPECT_EQ(run.exit_code, 3) << run.output;
  EXPECT_NE(run.output.find("channel 1: no key: keys.shm: no shared-memory object /" + shm_.name), std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("no key for channel(s) 1, 2, 3 within startup_timeout_ms = 1500"), std::string::npos)
      << run.output;
  EXPECT_TRUE(read_pcap(file("out.pcap")).empty());
}

// Scrambler and descrambler both on shared memory: the input comes back.
TEST_F(ShmGateway, DescramblesWithTheKeysTheKeyManagerPublishes) {
  start_keymgr(10000);
  const ShmInput in = make_shm_input(20);
  write_pcap(file("in.pcap"), in.frames);
  auto run = run_gateway(args(gateway_config(Mode::scramble, shm_.name, 5000), pcap_pipe("in.pcap", "scrambled.pcap"),
                              500),
                         milliseconds(30000));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  run = run_gateway(args(gateway_config(Mode::descramble, shm_.name, 5000),
                         pcap_pipe("scrambled.pcap", "clear.pcap"), 500),
                    milliseconds(30000));
  ASSERT_EQ(run.exit_code, 0) << run.output << "\n--- keymgr:\n" << km_->log();
  EXPECT_EQ(payloads_by_channel(read_pcap(file("clear.pcap")), 1), in.payloads) << run.output;
}

}  // namespace
}  // namespace gateway::test
