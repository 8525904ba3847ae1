// A replica key manager over TLS (server.lab = false): it presents its own
// client certificate (CN = replica_peer_id) to the master and follows it;
// a master whose certificate does not name the address the replica dials is
// refused. (A replica without client_cert is a config error:
// config/tests/keymgr_config_test.cc.)
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <thread>

#include "keymgr_process.h"
#include "test_client.h"
#include "test_configs.h"
#include "test_pki.h"

namespace keymgr::test {
namespace {

using Keys = std::map<std::uint32_t, std::vector<std::uint8_t>>;

class ReplicationTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new TempDir;
    const auto& d = pki_->path();
    ready_ = make_ca(d, "ca") && make_cert(d, "master", "keymgr1", "ca", kServerCertExt) &&
             make_cert(d, "master-elsewhere", "keymgr1", "ca",
                       "subjectAltName=DNS:keymgr1.example\nextendedKeyUsage=serverAuth") &&
             make_cert(d, "replica", "keymgr2", "ca", kServerCertExt) &&
             make_cert(d, "replica1", "replica1", "ca", kClientCertExt) &&
             make_cert(d, "rx1", "rx1", "ca", kClientCertExt);
  }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(ready_) << "could not make the test PKI"; }

  static std::string pem(const std::string& name) { return (pki_->path() / (name + ".pem")).string(); }
  static std::string key(const std::string& name) { return (pki_->path() / (name + ".key")).string(); }

  static ConfigOptions tls_options(const std::string& server_cert, const std::string& client_lines) {
    ConfigOptions o;
    o.lab = false;
    o.lifetime_ms = 10000;
    o.tls_section = "\n[tls]\ncert = \"" + pem(server_cert) + "\"\nkey = \"" + key(server_cert) + "\"\nca = \"" +
                    pem("ca") + "\"\n" + client_lines;
    return o;
  }
  static std::string master(std::uint16_t port, const std::string& server_cert) {
    return with_port(lab_config(tls_options(server_cert, "")), port) +
           "\n[[peer]]\nid = \"replica1\"\nrole = \"replica\"\nchannels = [1, 2, 3, 4]\n";
  }
  static std::string replica(std::uint16_t master_port, bool with_client_cert = true) {
    ConfigOptions o = tls_options(
        "replica", with_client_cert ? "client_cert = \"" + pem("replica1") + "\"\nclient_key = \"" + key("replica1") + "\"\n" : "");
    o.server_extra = "role = \"replica\"\nmaster = \"127.0.0.1:" + std::to_string(master_port) +
                     "\"\nreplica_peer_id = \"replica1\"\n";
    return lab_config(o);
  }

  // Channel 1's current and next keys as receiver rx1 sees them over TLS.
  static Keys fetch(std::uint16_t port) {
    const TlsIdentity id{pem("rx1"), key("rx1"), pem("ca")};
    TestClient c(port, &id);
    Keys out;
    if (!c.ok()) return out;
    const auto h = c.hello(2, "rx1", "");
    if (!h || h->error_code()) return out;
    const auto a = c.key_request(1);
    if (!a || a->error_code()) return out;
    for (const auto& r : a->key_records()) out[r.key_id].assign(r.material().begin(), r.material().end());
    return out;
  }

  static bool converge(std::uint16_t master_port, std::uint16_t replica_port, int tries) {
    for (int i = 0; i < tries; ++i) {
      const Keys m = fetch(master_port), r = fetch(replica_port);
      if (!m.empty() && m == r) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  static TempDir* pki_;
  static bool ready_;
};

TempDir* ReplicationTls::pki_ = nullptr;
bool ReplicationTls::ready_ = false;

TEST_F(ReplicationTls, ReplicaFollowsTheMasterWithItsClientCertificate) {
  TempDir mdir, rdir;
  const std::uint16_t mport = free_port();
  auto m = KeymgrProcess::start(mdir.path(), master(mport, "master"));
  ASSERT_TRUE(m);
  auto r = KeymgrProcess::start(rdir.path(), replica(mport));
  ASSERT_TRUE(r);
  EXPECT_TRUE(converge(m->port(), r->port(), 100)) << r->log() << "\n--- master:\n" << m->log();
}

TEST_F(ReplicationTls, MasterCertificateNotNamingTheDialledAddressIsRefused) {
  TempDir mdir, rdir;
  const std::uint16_t mport = free_port();
  auto m = KeymgrProcess::start(mdir.path(), master(mport, "master-elsewhere"));
  ASSERT_TRUE(m);
  auto r = KeymgrProcess::start(rdir.path(), replica(mport));
  ASSERT_TRUE(r);
  EXPECT_FALSE(converge(m->port(), r->port(), 20));
  EXPECT_NE(r->log().find("TLS handshake with master"), std::string::npos) << r->log();
}

}  // namespace
}  // namespace keymgr::test
