// keycast-keymgr with lab = false: TLS 1.3 with client certificates from a PKI
// the test makes with the openssl CLI; the certificate's CN must be the
// HELLO's peer_id; other CAs, missing certificates, TLS 1.2 and plaintext
// are refused.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "keymgr_process.h"
#include "test_pki.h"
#include "test_client.h"
#include "test_configs.h"

namespace keymgr::test {
namespace {

using kmproto::ErrorCode;
using kmproto::MessageType;

class Tls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new TempDir;
    const auto& d = pki_->path();
    const std::string client = kClientCertExt;
    ready_ = make_ca(d, "ca") && make_ca(d, "other-ca") &&
             make_cert(d, "server", "keycast-keymgr", "ca",
                       "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth") &&
             make_cert(d, "gw1", "gw1", "ca", client) && make_cert(d, "rx1", "rx1", "ca", client) &&
             make_cert(d, "rx1-other-ca", "rx1", "other-ca", client) &&
             make_cert(d, "mallory", "mallory", "ca", client);
  }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }

  void SetUp() override {
    ASSERT_TRUE(ready_) << "could not make the test PKI";
    ConfigOptions o;
    o.lab = false;
    o.server_extra = "idle_timeout_ms = 2000\n";
    o.tls_section = "\n[tls]\ncert = \"" + pem("server") + "\"\nkey = \"" + key("server") + "\"\nca = \"" +
                    pem("ca") + "\"\n";
    km_ = KeymgrProcess::start(dir_.path(), lab_config(o));
    ASSERT_TRUE(km_);
  }

  static std::string pem(const std::string& name) { return (pki_->path() / (name + ".pem")).string(); }
  static std::string key(const std::string& name) { return (pki_->path() / (name + ".key")).string(); }
  static TlsIdentity identity(const std::string& name) { return {pem(name), key(name), pem("ca")}; }
  static TlsIdentity anonymous() { return {"", "", pem("ca")}; }

  // True if the connection ends without a HELLO answer: refused during the
  // handshake (not ok) or closed after it.
  bool refused(const TlsIdentity& id, const std::string& peer_id, std::uint8_t role) {
    TestClient c(km_->port(), &id);
    if (!c.ok()) return true;
    const auto a = c.hello(role, peer_id, "");
    EXPECT_FALSE(a) << "answered: type " << (a ? static_cast<int>(a->type) : 0) << " " << (a ? a->error_text() : "");
    return !a && c.closed_by_server();
  }

  static TempDir* pki_;
  static bool ready_;
  TempDir dir_;
  std::unique_ptr<KeymgrProcess> km_;
};

TempDir* Tls::pki_ = nullptr;
bool Tls::ready_ = false;

TEST_F(Tls, MutualTlsHelloAndKeyRequest) {
  const auto id = identity("rx1");
  TestClient c(km_->port(), &id);
  ASSERT_TRUE(c.ok()) << km_->log();
  const auto h = c.hello(kReceiver, "rx1", "");
  ASSERT_TRUE(h) << km_->log();
  ASSERT_EQ(h->type, kmproto::answer_of(MessageType::hello)) << h->error_text();
  const auto a = c.key_request(1);
  ASSERT_TRUE(a);
  ASSERT_EQ(a->type, kmproto::answer_of(MessageType::key_request)) << a->error_text();
  const auto recs = a->key_records();
  ASSERT_GE(recs.size(), 1u);
  EXPECT_EQ(recs[0].channel_id, 1u);
  EXPECT_EQ(recs[0].state, kmproto::KeyState::current);

  const auto other = identity("gw1");
  TestClient g(km_->port(), &other);
  ASSERT_TRUE(g.ok());
  const auto gh = g.hello(kGateway, "gw1", "");
  ASSERT_TRUE(gh && gh->type == kmproto::answer_of(MessageType::hello)) << (gh ? gh->error_text() : "no answer");
}

TEST_F(Tls, CertificateCnMustBePeerId) {
  const struct {
    const char* cert;
    std::uint8_t role;
    const char* peer_id;
  } cases[] = {{"rx1", kGateway, "gw1"}, {"mallory", kReceiver, "rx1"}, {"mallory", kReceiver, "mallory"}};
  for (const auto& k : cases) {
    const auto id = identity(k.cert);
    TestClient c(km_->port(), &id);
    ASSERT_TRUE(c.ok()) << k.cert;
    const auto a = c.hello(k.role, k.peer_id, "");
    ASSERT_TRUE(a) << k.cert << " as " << k.peer_id;
    EXPECT_EQ(a->error_code(), static_cast<std::uint16_t>(ErrorCode::unauthenticated))
        << k.cert << " as " << k.peer_id << ": " << a->error_text();
    EXPECT_TRUE(c.closed_by_server()) << k.cert << " as " << k.peer_id;
  }
}

TEST_F(Tls, CertificateFromAnotherCaIsRefused) { EXPECT_TRUE(refused(identity("rx1-other-ca"), "rx1", kReceiver)); }

TEST_F(Tls, NoClientCertificateIsRefused) { EXPECT_TRUE(refused(anonymous(), "rx1", kReceiver)); }

TEST_F(Tls, Tls12IsRefused) {
  auto id = identity("rx1");
  id.version = TLS1_2_VERSION;
  TestClient c(km_->port(), &id);
  EXPECT_FALSE(c.ok());
}

// lab = false has no plaintext listener: a plaintext HELLO is not a TLS
// handshake, and gets no protocol answer.
TEST_F(Tls, PlaintextIsRefused) {
  TestClient c(km_->port());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c.send(frame(MessageType::hello, {{kmproto::ParamType::role, u8(kReceiver)},
                                               {kmproto::ParamType::peer_id, str("rx1")},
                                               {kmproto::ParamType::auth_token, str("rx1-lab-token")}})));
  EXPECT_FALSE(c.read());
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(Tls, StalledHandshakeIsClosed) {
  TestClient c(km_->port());
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c.closed_by_server(std::chrono::seconds(10)));
}

TEST_F(Tls, RefusedPeersDoNotDisturbOthers) {
  const auto id = identity("rx1");
  TestClient c(km_->port(), &id);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c.hello(kReceiver, "rx1", ""));
  EXPECT_TRUE(refused(anonymous(), "rx1", kReceiver));
  EXPECT_TRUE(refused(identity("rx1-other-ca"), "rx1", kReceiver));
  const auto a = c.key_request(2);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->type, kmproto::answer_of(MessageType::key_request)) << a->error_text();
}

}  // namespace
}  // namespace keymgr::test
