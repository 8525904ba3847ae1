// lib/kmclient against the real keycast-keymgr: lab tokens, entitlement,
// pipelining, failover from a dead endpoint, gateway KEY_GENERATE/KEY_PUSH/
// USAGE_REPORT on the gateway-origin channel 4, SUBSCRIBE, and TLS with
// client certificates from a PKI made with the openssl CLI.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "keymgr_process.h"
#include "test_pki.h"
#include "kmclient/client.h"
#include "test_configs.h"

namespace kmclient {
namespace {

using keymgr::test::KeymgrProcess;
using keymgr::test::TempDir;
using kmproto::ErrorCode;
using kmproto::KeyState;
using std::chrono::milliseconds;

ClientConfig lab_client(const std::string& peer, kmproto::Role role, std::vector<std::uint16_t> ports) {
  ClientConfig c;
  for (const auto p : ports) c.endpoints.push_back({"127.0.0.1", p});
  c.role = role;
  c.peer_id = peer;
  c.auth_token = peer + "-lab-token";
  c.request_timeout = milliseconds(3000);
  return c;
}

class Lab : public ::testing::Test {
 protected:
  void SetUp() override {
    km_ = KeymgrProcess::start(dir_.path(), keymgr::test::lab_config());
    ASSERT_TRUE(km_);
  }
  ClientConfig rx1() const { return lab_client("rx1", kmproto::Role::receiver, {km_->port()}); }
  ClientConfig gw1() const { return lab_client("gw1", kmproto::Role::gateway, {km_->port()}); }

  TempDir dir_;
  std::unique_ptr<KeymgrProcess> km_;
};

TEST_F(Lab, ReceiverGetsTheKeysOfItsChannel) {
  KeymgrClient c(rx1());
  const auto keys = c.request_keys(1);
  ASSERT_TRUE(keys) << keys.error().message << "\n" << km_->log();
  ASSERT_GE(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].channel_id, 1u);
  EXPECT_EQ((*keys)[0].state, KeyState::current);
  EXPECT_EQ((*keys)[0].key_length(), 16u);  // aes128-ctr
  ASSERT_TRUE(c.server_time_ms());
  EXPECT_GT(*c.server_time_ms(), 1700000000000u);

  const auto one = c.request_key(1, (*keys)[0].key_id);
  ASSERT_TRUE(one) << one.error().message;
  EXPECT_EQ(one->material().size(), 16u);
  EXPECT_TRUE(std::equal(one->material().begin(), one->material().end(), (*keys)[0].material().begin()));

  const auto unknown = c.request_key(1, 999999);
  ASSERT_FALSE(unknown);
  EXPECT_TRUE(unknown.error().is(ErrorCode::unknown_key)) << unknown.error().message;
}

TEST_F(Lab, NotEntitledIsAnAnswer) {
  KeymgrClient c(rx1());
  const auto keys = c.request_keys(3);
  ASSERT_FALSE(keys);
  EXPECT_EQ(keys.error().kind, ErrorKind::answer);
  EXPECT_TRUE(keys.error().is(ErrorCode::not_entitled)) << keys.error().message;
  EXPECT_TRUE(c.connected());
  EXPECT_TRUE(c.request_keys(2));
}

TEST_F(Lab, PipelinedRequests) {
  KeymgrClient c(rx1());
  const KeyQuery q[] = {{1, 0}, {3, 0}, {2, 0}, {99, 0}};
  const auto a = c.request_many(q);
  ASSERT_TRUE(a) << a.error().message;
  ASSERT_EQ(a->size(), 4u);
  ASSERT_TRUE((*a)[0]) << (*a)[0].error().message;
  EXPECT_EQ((*a)[0]->at(0).channel_id, 1u);
  EXPECT_TRUE(!(*a)[1] && (*a)[1].error().is(ErrorCode::not_entitled));
  ASSERT_TRUE((*a)[2]) << (*a)[2].error().message;
  EXPECT_EQ((*a)[2]->at(0).channel_id, 2u);
  EXPECT_TRUE(!(*a)[3] && (*a)[3].error().is(ErrorCode::unknown_channel));
}

TEST_F(Lab, FailsOverFromADeadEndpoint) {
  auto cfg = rx1();
  cfg.endpoints.insert(cfg.endpoints.begin(), Endpoint{"127.0.0.1", keymgr::test::free_port()});
  KeymgrClient c(cfg);
  const auto keys = c.request_keys(1);
  ASSERT_TRUE(keys) << keys.error().message;
  EXPECT_EQ(c.current_endpoint()->port, km_->port());
}

TEST_F(Lab, WrongTokenIsUnauthenticated) {
  auto cfg = rx1();
  cfg.auth_token = "not-the-token-xyzzy";
  KeymgrClient c(cfg);
  const auto keys = c.request_keys(1);
  ASSERT_FALSE(keys);
  EXPECT_EQ(keys.error().kind, ErrorKind::unauthenticated) << keys.error().message;
  EXPECT_EQ(keys.error().message.find("xyzzy"), std::string::npos) << "token in: " << keys.error().message;
}

TEST_F(Lab, GatewayGeneratesPushesAndReportsOnChannel4) {
  KeymgrClient c(gw1());
  constexpr std::uint8_t kXorInv = 2;
  const auto cur = c.generate(4, kmproto::Which::current, kXorInv, 64, 10000);
  ASSERT_TRUE(cur) << cur.error().message << "\n" << km_->log();
  EXPECT_EQ(cur->channel_id, 4u);
  EXPECT_EQ(cur->state, KeyState::current);
  EXPECT_EQ(cur->key_length(), 64u);
  const auto next = c.generate(4, kmproto::Which::next, kXorInv, 64, 10000);
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(next->state, KeyState::next);
  EXPECT_GT(next->key_id, cur->key_id);

  kmproto::KeyRecord mine;
  mine.channel_id = 4;
  mine.key_id = next->key_id + 1;
  mine.suite = kXorInv;
  mine.state = KeyState::next;
  mine.lifetime_ms = 10000;
  mine.remaining_ms = 10000;
  mine.not_before_ms = static_cast<std::uint64_t>(std::chrono::duration_cast<milliseconds>(
                                                      std::chrono::system_clock::now().time_since_epoch())
                                                      .count()) +
                       60000;
  std::vector<std::uint8_t> material(64);
  for (std::size_t i = 0; i < material.size(); ++i) material[i] = static_cast<std::uint8_t>(i * 7 + 1);
  ASSERT_EQ(mine.set_material(material), kmproto::Status::ok);
  const auto pushed = c.push(std::span(&mine, 1));
  ASSERT_TRUE(pushed) << pushed.error().message << "\n" << km_->log();
  const auto back = c.request_key(4, mine.key_id);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_TRUE(std::equal(material.begin(), material.end(), back->material().begin()));

  const auto wrong = c.generate(4, kmproto::Which::next, kXorInv, 32, 10000);
  ASSERT_FALSE(wrong);
  EXPECT_TRUE(wrong.error().is(ErrorCode::bad_message)) << wrong.error().message;

  KeymgrClient c2(gw1());
  const auto usage = c2.report_usage(4, cur->key_id, 1000, 1316000);
  EXPECT_TRUE(usage) << usage.error().message;
  const auto not_fed = c2.generate(1, kmproto::Which::next, 3, 16, 10000);
  ASSERT_FALSE(not_fed);
  EXPECT_TRUE(not_fed.error().is(ErrorCode::not_entitled)) << not_fed.error().message;
}

TEST_F(Lab, GatewaySubscriptionDeliversKeysAndHeartbeats) {
  KeymgrClient c(gw1());
  auto sub = c.subscribe(0);
  ASSERT_TRUE(sub) << sub.error().message << "\n" << km_->log();
  bool delivery = false, heartbeat = false;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while ((!delivery || !heartbeat) && std::chrono::steady_clock::now() < until) {
    const auto e = sub->poll_delivery(milliseconds(500));
    ASSERT_TRUE(e) << e.error().message;
    if (e->kind == SubscriptionEvent::Kind::delivery) {
      delivery = true;
      ASSERT_FALSE(e->delivery.records.empty());
      EXPECT_GT(e->delivery.version, 0u);
    }
    if (e->kind == SubscriptionEvent::Kind::heartbeat) heartbeat = true;
  }
  EXPECT_TRUE(delivery);
  EXPECT_TRUE(heartbeat);
  EXPECT_GT(sub->last_version(), 0u);
  // The request connection is separate and still usable.
  EXPECT_TRUE(c.request_keys(1));

  KeymgrClient r(rx1());
  const auto refused = r.subscribe(0);
  ASSERT_FALSE(refused);
  EXPECT_TRUE(refused.error().is(ErrorCode::not_entitled));
}

// --- TLS ------------------------------------------------------------------

class Tls : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto& d = pki_.path();
    using keymgr::test::kClientCertExt;
    using keymgr::test::make_cert;
    ASSERT_TRUE(keymgr::test::make_ca(d, "ca") &&
                make_cert(d, "keycast-keymgr", "keycast-keymgr", "ca", keymgr::test::kServerCertExt) &&
                make_cert(d, "rx1", "rx1", "ca", kClientCertExt) && make_cert(d, "mallory", "mallory", "ca", kClientCertExt));
    keymgr::test::ConfigOptions o;
    o.lab = false;
    o.tls_section = "\n[tls]\ncert = \"" + file("keycast-keymgr.pem") + "\"\nkey = \"" + file("keycast-keymgr.key") +
                    "\"\nca = \"" + file("ca.pem") + "\"\n";
    km_ = KeymgrProcess::start(dir_.path(), keymgr::test::lab_config(o));
    ASSERT_TRUE(km_);
  }
  std::string file(const std::string& name) const { return (pki_.path() / name).string(); }
  ClientConfig client(const std::string& cert, const std::string& peer, const std::string& host = "127.0.0.1") const {
    ClientConfig c;
    c.endpoints.push_back({host, km_->port()});
    c.role = kmproto::Role::receiver;
    c.peer_id = peer;
    c.tls = TlsFiles{file(cert + ".pem"), file(cert + ".key"), file("ca.pem")};
    return c;
  }

  TempDir pki_, dir_;
  std::unique_ptr<KeymgrProcess> km_;
};

TEST_F(Tls, ClientCertificateIsThePeer) {
  KeymgrClient c(client("rx1", "rx1"));
  const auto keys = c.request_keys(1);
  ASSERT_TRUE(keys) << keys.error().message << "\n" << km_->log();
  EXPECT_EQ(keys->at(0).channel_id, 1u);
  EXPECT_EQ(keys->at(0).key_length(), 16u);
  const auto denied = c.request_keys(3);
  EXPECT_TRUE(!denied && denied.error().is(ErrorCode::not_entitled));

  KeymgrClient by_name(client("rx1", "rx1", "localhost"));
  const auto named = by_name.request_keys(2);
  EXPECT_TRUE(named) << named.error().message;
}

TEST_F(Tls, CertificateOfAnotherPeerIsRefused) {
  KeymgrClient c(client("mallory", "rx1"));
  const auto keys = c.request_keys(1);
  ASSERT_FALSE(keys);
  EXPECT_EQ(keys.error().kind, ErrorKind::unauthenticated) << keys.error().message;
}

TEST_F(Tls, PlaintextClientGetsNoAnswerInTime) {
  auto cfg = lab_client("rx1", kmproto::Role::receiver, {km_->port()});
  cfg.connect_timeout = milliseconds(500);
  KeymgrClient c(cfg);
  const auto t0 = std::chrono::steady_clock::now();
  const auto keys = c.request_keys(1);
  ASSERT_FALSE(keys);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(1000));
}

}  // namespace
}  // namespace kmclient
