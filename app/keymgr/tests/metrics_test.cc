// keycast-keymgr's Prometheus endpoint: the port it reports, counters after a
// known mix of requests (including refused ones), a replica's link gauges,
// and a metrics port already taken as a start-up error.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <optional>
#include <regex>
#include <thread>

#include "keymgr_process.h"
#include "prom_scrape.h"
#include "test_client.h"
#include "test_configs.h"

namespace keymgr::test {

using prom::test::scrape;
using prom::test::scrape_until;
using prom::test::value;

namespace {

constexpr const char* kMetricsAnyPort = "metrics_listen = \"127.0.0.1:0\"\n";

// The port from the "metrics on http://HOST:PORT/metrics" log line, 0 if none.
std::uint16_t metrics_port(const KeymgrProcess& p) {
  std::smatch m;
  const std::string log = p.log();
  if (!std::regex_search(log, m, std::regex(R"(metrics on http://127\.0\.0\.1:(\d+)/metrics)"))) return 0;
  return static_cast<std::uint16_t>(std::stoi(m[1]));
}

TEST(Metrics, CountsRequestsErrorsConnectionsAndKeys) {
  TempDir dir;
  ConfigOptions o;
  o.server_extra = std::string(kMetricsAnyPort) + "max_connections = 2\n";
  auto p = KeymgrProcess::start(dir.path(), lab_config(o));
  ASSERT_TRUE(p);
  const std::uint16_t mport = metrics_port(*p);
  ASSERT_NE(mport, 0) << p->log();
  ASSERT_NE(mport, p->port());

  TestClient a(p->port());
  const auto h = a.hello(kReceiver, "rx1", "rx1-lab-token");
  ASSERT_TRUE(h && !h->error_code());
  const auto k1 = a.key_request(1);
  ASSERT_TRUE(k1 && !k1->error_code());
  const auto k3 = a.key_request(3);
  ASSERT_TRUE(k3);
  EXPECT_EQ(k3->error_code(), static_cast<std::uint16_t>(kmproto::ErrorCode::not_entitled));
  {
    TestClient c(p->port());
    const auto bad = c.hello(kReceiver, "rx1", "wrong-token");
    ASSERT_TRUE(bad);
    EXPECT_EQ(bad->error_code(), static_cast<std::uint16_t>(kmproto::ErrorCode::unauthenticated));
    EXPECT_TRUE(c.closed_by_server());
  }
  // Once the refused peer is gone, the cap of 2 leaves room for exactly one more.
  scrape_until(mport, [](const std::string& b) { return value(b, "keycast_keymgr_connections") == 1.0; });
  TestClient b1(p->port());
  const auto h1 = b1.hello(kReceiver, "rx2", "rx2-lab-token");
  ASSERT_TRUE(h1 && !h1->error_code());
  TestClient b2(p->port());
  EXPECT_TRUE(b2.closed_by_server());

  const std::string body = scrape_until(mport, [](const std::string& b) {
    return value(b, "keycast_keymgr_connections_refused_total") == 1.0 &&
           value(b, "keycast_keymgr_requests_total{type=\"hello\"}") == 3.0;
  });
  ASSERT_FALSE(body.empty());
  EXPECT_EQ(value(body, "keycast_keymgr_connections"), 2.0) << body;
  EXPECT_EQ(value(body, "keycast_keymgr_connections_refused_total"), 1.0) << body;
  EXPECT_EQ(value(body, "keycast_keymgr_requests_total{type=\"hello\"}"), 3.0) << body;
  EXPECT_EQ(value(body, "keycast_keymgr_requests_total{type=\"key_request\"}"), 2.0) << body;
  EXPECT_EQ(value(body, "keycast_keymgr_requests_total{type=\"key_push\"}"), 0.0) << body;
  EXPECT_EQ(value(body, "keycast_keymgr_errors_total{code=\"not_entitled\"}"), 1.0) << body;
  EXPECT_EQ(value(body, "keycast_keymgr_errors_total{code=\"unauthenticated\"}"), 1.0) << body;
  EXPECT_EQ(value(body, "keycast_keymgr_errors_total{code=\"bad_message\"}"), 0.0) << body;
  EXPECT_EQ(value(body, "keycast_keymgr_hello_refused_total"), 1.0) << body;
  EXPECT_EQ(value(body, "keycast_keymgr_store_failures_total"), 0.0) << body;
  EXPECT_EQ(value(body, "keycast_keymgr_keys_pushed_total"), 0.0) << body;
  EXPECT_EQ(value(body, "keycast_keymgr_keys_expired_total"), 0.0) << body;
  EXPECT_EQ(value(body, "keycast_keymgr_retention_deleted_rows_total"), 0.0) << body;

  // Channels 1-3 get their first keys at start; every key is one store write.
  const auto made = value(body, "keycast_keymgr_keys_made_total");
  ASSERT_TRUE(made) << body;
  EXPECT_GE(*made, 3.0);
  EXPECT_GE(value(body, "keycast_keymgr_replication_version").value_or(0), *made) << body;
  EXPECT_GE(value(body, "keycast_keymgr_store_write_seconds_count").value_or(0), *made) << body;
  EXPECT_EQ(value(body, "keycast_keymgr_store_write_seconds_bucket{le=\"+Inf\"}"),
            value(body, "keycast_keymgr_store_write_seconds_count"))
      << body;
  // The WAL sync thread's latency (the first keys were synced at start, the
  // key requests' accounting needs no sync: perhaps none yet).
  EXPECT_TRUE(value(body, "keycast_keymgr_store_sync_seconds_count")) << body;
  // Every burst of frames read is answered: at least one burst a HELLO
  // (three) and one for the key requests.
  EXPECT_GE(value(body, "keycast_keymgr_answer_seconds_count").value_or(0), 4.0) << body;
  EXPECT_FALSE(value(body, "keycast_keymgr_replication_connected")) << "master has no replication link";
}

TEST(Metrics, ReplicaReportsItsLinkToTheMaster) {
  TempDir mdir, rdir;
  auto master = KeymgrProcess::start(
      mdir.path(),
      lab_config() + "\n[[peer]]\nid = \"replica1\"\nrole = \"replica\"\ntoken = \"replica1-lab-token\"\nchannels = [1]\n");
  ASSERT_TRUE(master);
  ConfigOptions o;
  o.server_extra = std::string(kMetricsAnyPort) + "role = \"replica\"\nmaster = \"127.0.0.1:" +
                   std::to_string(master->port()) +
                   "\"\nreplica_peer_id = \"replica1\"\nreplica_token = \"replica1-lab-token\"\n";
  auto replica = KeymgrProcess::start(rdir.path(), lab_config(o));
  ASSERT_TRUE(replica);
  const std::uint16_t mport = metrics_port(*replica);
  ASSERT_NE(mport, 0) << replica->log();

  // Three keys made on the master reach the replica as versions 1..3 or more.
  const std::string body = scrape_until(mport, [](const std::string& b) {
    return value(b, "keycast_keymgr_replication_connected") == 1.0 &&
           value(b, "keycast_keymgr_replication_version").value_or(0) >= 3.0;
  });
  EXPECT_EQ(value(body, "keycast_keymgr_replication_connected"), 1.0) << body;
  EXPECT_GE(value(body, "keycast_keymgr_replication_version").value_or(0), 3.0) << body;
  const auto lag = value(body, "keycast_keymgr_replication_lag_seconds");
  ASSERT_TRUE(lag) << body;
  EXPECT_GE(*lag, 0.0);
  EXPECT_LT(*lag, 2.0) << "the master sends a heartbeat every second";
  EXPECT_EQ(value(body, "keycast_keymgr_keys_made_total"), 0.0) << "only the master makes keys";

  master->stop(SIGKILL);
  const std::string after = scrape_until(mport, [](const std::string& b) {
    return value(b, "keycast_keymgr_replication_connected") == 0.0 &&
           value(b, "keycast_keymgr_replication_lag_seconds").value_or(0) > 1.0;
  });
  EXPECT_EQ(value(after, "keycast_keymgr_replication_connected"), 0.0) << after;
  EXPECT_GT(value(after, "keycast_keymgr_replication_lag_seconds").value_or(0), 1.0) << after;
}

TEST(Metrics, MetricsPortInUseStopsTheStart) {
  const int taken = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(taken, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(taken, 1), 0);
  socklen_t len = sizeof a;
  ASSERT_EQ(getsockname(taken, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const std::string at = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));

  TempDir dir;
  const auto config = dir.path() / "keymgr.toml";
  const auto state = dir.path() / "state";
  ConfigOptions o;
  o.server_extra = "metrics_listen = \"" + at + "\"\n";
  std::ofstream(config) << lab_config(o);
  std::string out;
  ASSERT_EQ(run_keymgr({"init", "--config", config.string(), "--state-dir", state.string()}, &out), 0) << out;
  EXPECT_EQ(run_keymgr({"--config", config.string(), "--state-dir", state.string()}, &out, std::chrono::seconds(10)), 1)
      << out;
  EXPECT_NE(out.find("cannot serve metrics on " + at), std::string::npos) << out;
  close(taken);
}

}  // namespace
}  // namespace keymgr::test
