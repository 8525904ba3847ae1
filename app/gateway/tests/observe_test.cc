// keycast-gateway observed while it runs (net_pcap infinite_rx → net_null,
// the real key manager): its DPDK telemetry socket answers the /keycast/
// commands with growing counters and the key manager's key ids (never key
// material), its Prometheus endpoint serves the counters and key ids, and the
// hwloc topology and placement lines are printed at start.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <thread>

#include "frames.h"
#include "gateway_process.h"
#include "keymgr_process.h"
#include "prom_scrape.h"
#include "kmclient/client.h"
#include "test_configs.h"

namespace gateway::test {
namespace {

using keymgr::test::KeymgrProcess;
using prom::test::scrape;
using prom::test::value;
using keymgr::test::TempDir;
using nlohmann::json;
using std::chrono::milliseconds;

// A client of the process's dpdk_telemetry.v2 socket (SOCK_SEQPACKET: one
// message per command and per answer).
class TelemetryClient {
 public:
  // Connects (retrying while the socket does not exist yet) and reads the
  // greeting.
  TelemetryClient(const std::string& path, milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
    while (std::chrono::steady_clock::now() < until) {
      fd_ = ::socket(AF_UNIX, SOCK_SEQPACKET, 0);
      if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
        greeting_ = receive();
        return;
      }
      ::close(fd_);
      fd_ = -1;
      std::this_thread::sleep_for(milliseconds(50));
    }
  }
  ~TelemetryClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return fd_ >= 0; }
  const json& greeting() const { return greeting_; }

  // The answer's value under the command's name; null on failure.
  json ask(const std::string& command, std::string* raw = nullptr) {
    if (::send(fd_, command.data(), command.size(), 0) != static_cast<ssize_t>(command.size())) return nullptr;
    const json j = receive(raw);
    return j.is_object() && j.contains(command) ? j[command] : json(nullptr);
  }

 private:
  json receive(std::string* raw = nullptr) {
    std::string buf(64 * 1024, '\0');
    const ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
    if (n <= 0) return nullptr;
    buf.resize(static_cast<std::size_t>(n));
    if (raw) *raw = buf;
    return json::parse(buf, nullptr, false);
  }

  int fd_ = -1;
  json greeting_;
};

std::string hex(std::span<const std::uint8_t> b) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (const auto c : b) (s += digits[c >> 4]) += digits[c & 15];
  return s;
}

std::string gateway_config(std::uint16_t keymgr_port) {
  std::string s =
      "mode = \"scramble\"\nmetrics_listen = \"127.0.0.1:0\"\n"
      "[ports]\ninput = 0\noutput = 1\nmbufs = 4095\n"
      "[keys]\nendpoints = [\"127.0.0.1:" + std::to_string(keymgr_port) + "\"]\n"
      "peer_id = \"gw1\"\ntoken = \"gw1-lab-token\"\nstartup_timeout_ms = 5000\n";
  s += "\n[[channel]]\nid = 1\ninput = \"239.1.1.1:5000\"\noutput = \"239.2.1.1:5000\"\nsuite = \"aes128-ctr\"\n";
  s += "\n[[channel]]\nid = 3\ninput = \"239.1.1.3:5000\"\noutput = \"239.2.1.3:5000\"\nsuite = \"aes128-gcm\"\n";
  return s;
}

TEST(GatewayObserve, TelemetryPrometheusAndTopology) {
  TempDir dir;
  const auto file = [&](const std::string& name) { return dir.path() / name; };
  std::filesystem::create_directories(file("km"));
  keymgr::test::ConfigOptions o;
  o.lifetime_ms = 20000;
  auto km = KeymgrProcess::start(file("km"), keymgr::test::lab_config(o));
  ASSERT_TRUE(km);

  std::vector<Frame> frames;
  for (std::uint32_t i = 0; i < 8; ++i) {
    UdpSpec spec;
    spec.src = ip("10.0.0.1");
    spec.dst = ip(i % 2 ? "239.1.1.3" : "239.1.1.1");
    frames.push_back(udp_frame(spec, raw_payload(200 + i, i)));
  }
  write_pcap(file("in.pcap"), frames);
  std::ofstream(file("gateway.toml")) << gateway_config(km->port());
  auto args = eal_args({endless_input_vdev(file("in.pcap")), "net_null0"});
  std::string prefix;
  for (std::size_t i = 0; i + 1 < args.size(); ++i)
    if (args[i] == "--file-prefix") prefix = args[i + 1];
  args.insert(args.end(), {"--", "--config", file("gateway.toml").string()});

  GatewayChild gw(args);
  ASSERT_TRUE(gw.wait_for("scrambling: 1 worker(s)", milliseconds(20000))) << gw.output() << "\n--- keymgr:\n" << km->log();
  const std::string out = gw.output();
  EXPECT_TRUE(std::regex_search(out, std::regex("topology \\(hwloc\\): \\d+ packages?, \\d+ NUMA nodes?, \\d+ cores?, \\d+ PUs?")))
      << out;
  EXPECT_TRUE(std::regex_search(out, std::regex("worker lcore 1 \\(cpu \\d+, NUMA node [^)]+\\), input port 0")))
      << out;
  EXPECT_NE(out.find("worker 0 on lcore 1: polls port/queue 0/0, sends on port 1 queue 0"), std::string::npos) << out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex("metrics on http://127\\.0\\.0\\.1:(\\d+)/metrics"))) << out;
  const auto metrics_port = static_cast<std::uint16_t>(std::stoi(m[1]));

  // What the key manager serves gw1 for each channel.
  kmclient::ClientConfig c;
  c.endpoints.push_back({"127.0.0.1", km->port()});
  c.role = kmproto::Role::gateway;
  c.peer_id = "gw1";
  c.auth_token = "gw1-lab-token";
  kmclient::KeymgrClient client(c);
  std::map<std::uint32_t, std::uint32_t> current;
  std::vector<std::string> materials;
  for (const std::uint32_t ch : {1u, 3u}) {
    auto keys = client.request_keys(ch);
    ASSERT_TRUE(keys) << keys.error().message;
    for (const auto& r : *keys) {
      if (r.state == kmproto::KeyState::current) current[ch] = r.key_id;
      materials.push_back(hex(r.material()));
    }
  }

  TelemetryClient tel("/var/run/dpdk/" + prefix + "/dpdk_telemetry.v2", milliseconds(5000));
  ASSERT_TRUE(tel.connected()) << gw.output();
  EXPECT_TRUE(tel.greeting().contains("max_output_len")) << tel.greeting().dump();

  const json first = tel.ask("/keycast/counters");
  ASSERT_TRUE(first.is_object()) << first.dump();
  std::this_thread::sleep_for(milliseconds(300));
  const json second = tel.ask("/keycast/counters");
  ASSERT_TRUE(second.contains("rx") && second.contains("scrambled")) << second.dump();
  EXPECT_GT(second["rx"].get<std::uint64_t>(), first.value("rx", std::uint64_t{0}));
  EXPECT_GT(second["scrambled"].get<std::uint64_t>(), first.value("scrambled", std::uint64_t{0}));

  const json mode = tel.ask("/keycast/mode");
  EXPECT_EQ(mode.value("mode", ""), "scramble") << mode.dump();
  EXPECT_EQ(mode.value("worker_lcores", json::array()), json::array({1})) << mode.dump();
  EXPECT_EQ(mode.value("input_ports", json::array()), json::array({0})) << mode.dump();

  const json workers = tel.ask("/keycast/workers");
  const json w1 = workers.value("1", json::object());
  EXPECT_GT(w1.value("busy_frames", std::uint64_t{0}), 0u) << workers.dump();
  EXPECT_GT(w1.value("cycles_per_frame", std::uint64_t{0}), 0u) << workers.dump();

  std::string raw;
  const json keys = tel.ask("/keycast/keys", &raw);
  ASSERT_TRUE(keys.is_object()) << raw;
  for (const auto& [ch, id] : current) {
    const json k = keys.value(std::to_string(ch), json::object());
    EXPECT_EQ(k.value("current_key_id", 0u), id) << raw;
    EXPECT_GT(k.value("current_remaining_ms", 0u), 0u) << raw;
  }
  std::string all_raw = raw;
  const json channels = tel.ask("/keycast/channels", &raw);
  all_raw += raw;
  ASSERT_TRUE(channels.is_object()) << raw;
  const json ch1 = channels.value("1", json::object());
  EXPECT_EQ(ch1.value("suite", ""), "aes128-ctr") << raw;
  EXPECT_EQ(ch1.value("input", ""), "239.1.1.1:5000") << raw;
  EXPECT_EQ(ch1.value("key_id", 0u), current[1]) << raw;
  EXPECT_GT(ch1.value("datagrams", std::uint64_t{0}), 0u) << raw;
  for (const auto& mat : materials) EXPECT_EQ(all_raw.find(mat), std::string::npos) << "key material in telemetry";
  EXPECT_EQ(all_raw.find("material"), std::string::npos) << all_raw;

  // The control loop updates Prometheus every ~100 ms.
  std::this_thread::sleep_for(milliseconds(300));
  const std::string body = scrape(metrics_port);
  ASSERT_FALSE(body.empty());
  EXPECT_GT(value(body, "keycast_gateway_packets_total{outcome=\"rx\"}").value_or(0), 0) << body;
  EXPECT_GT(value(body, "keycast_gateway_channel_datagrams_total{channel=\"3\"}").value_or(0), 0) << body;
  EXPECT_EQ(value(body, "keycast_gateway_key_id{channel=\"1\",which=\"current\"}").value_or(0), current[1]) << body;
  EXPECT_GT(value(body, "keycast_gateway_busy_cycles_total").value_or(0), 0) << body;
  EXPECT_GT(value(body, "keycast_gateway_busy_frames_total").value_or(0), 0) << body;
  // 20 s keys: no switch yet, so no usage report, but the series are there.
  EXPECT_EQ(value(body, "keycast_gateway_usage_reports_total{outcome=\"sent\"}"), 0.0) << body;
  EXPECT_EQ(value(body, "keycast_gateway_usage_reports_total{outcome=\"lost\"}"), 0.0) << body;
  EXPECT_EQ(value(body, "keycast_gateway_usage_report_failures_total"), 0.0) << body;
  EXPECT_EQ(value(body, "keycast_gateway_usage_reports_waiting"), 0.0) << body;
  for (const auto& mat : materials) EXPECT_EQ(body.find(mat), std::string::npos) << "key material in /metrics";

  if (std::getenv("KEYCAST_TEST_VERBOSE")) std::fprintf(stderr, "--- telemetry:\n%s\n--- /metrics:\n%s\n", all_raw.c_str(), body.c_str());
  const GatewayRun run = gw.finish(SIGTERM, milliseconds(20000));
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("worker lcore 1: "), std::string::npos) << run.output;
  EXPECT_NE(run.output.find(" TSC cycles each"), std::string::npos) << run.output;
  remove_runtime_dirs();
}

}  // namespace
}  // namespace gateway::test
