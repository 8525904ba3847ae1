// Tests of the key manager config: the lab configs load with the values
// every later issue relies on, and each wrong config stops with its exact
// "FILE:LINE:COL: what" message.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "host_port.h"
#include "keymgr_config.h"

namespace {

using keymgr::KeymgrConfig;
using pktparse::Suite;

const std::string kConfigDir = KEYCAST_CONFIG_DIR;

std::vector<std::uint32_t> ids(std::initializer_list<std::uint32_t> l) { return l; }

void expect_lab_peers_and_channels(const KeymgrConfig& c) {
  const auto* gw1 = c.find_peer("gw1");
  ASSERT_NE(gw1, nullptr);
  EXPECT_EQ(gw1->role, keymgr::PeerRole::gateway);
  EXPECT_EQ(gw1->token, "gw1-lab-token");
  EXPECT_EQ(gw1->channels, ids({1, 2, 3, 4}));
  EXPECT_EQ(gw1->feeds, ids({1, 2, 3, 4}));
  const auto* rx1 = c.find_peer("rx1");
  ASSERT_NE(rx1, nullptr);
  EXPECT_EQ(rx1->role, keymgr::PeerRole::receiver);
  EXPECT_EQ(rx1->token, "rx1-lab-token");
  EXPECT_EQ(rx1->channels, ids({1, 2}));
  EXPECT_TRUE(rx1->feeds.empty());
  const auto* rx2 = c.find_peer("rx2");
  ASSERT_NE(rx2, nullptr);
  EXPECT_EQ(rx2->token, "rx2-lab-token");
  EXPECT_EQ(rx2->channels, ids({3}));

  ASSERT_EQ(c.channels.size(), 4U);
  const struct {
    std::uint32_t id;
    Suite suite;
    std::uint16_t key_length;
    keymgr::KeyOrigin origin;
  } want[] = {
      {1, Suite::aes128_ctr, 16, keymgr::KeyOrigin::keymgr},
      {2, Suite::xor_pattern, 16, keymgr::KeyOrigin::keymgr},
      {3, Suite::aes128_gcm, 16, keymgr::KeyOrigin::keymgr},
      {4, Suite::xor_inv, 64, keymgr::KeyOrigin::gateway},
  };
  for (const auto& w : want) {
    const auto* ch = c.find_channel(w.id);
    ASSERT_NE(ch, nullptr) << w.id;
    EXPECT_EQ(ch->suite, w.suite) << w.id;
    EXPECT_EQ(ch->key_length, w.key_length) << w.id;
    EXPECT_EQ(ch->lifetime_ms, 10000U) << w.id;
    EXPECT_DOUBLE_EQ(ch->threshold_x, 0.5);
    EXPECT_DOUBLE_EQ(ch->threshold_y, 0.25);
    EXPECT_EQ(ch->rotate_bytes, 0U);
    EXPECT_EQ(ch->rotate_datagrams, 0U);
    EXPECT_EQ(ch->origin, w.origin) << w.id;
  }
}

TEST(KeymgrConfig, MasterLabConfigLoads) {
  const KeymgrConfig c = keymgr::load_keymgr_config(kConfigDir + "/keymgr-lab.toml");
  EXPECT_EQ(c.server.listen, (keymgr::HostPort{"127.0.0.1", 7700}));
  EXPECT_EQ(c.server.role, keymgr::ServerRole::master);
  EXPECT_FALSE(c.server.master.has_value());
  EXPECT_TRUE(c.server.lab);
  EXPECT_EQ(c.server.kek_file, "kek");
  EXPECT_EQ(keymgr::kek_path(c.server, "/var/lib/keycast"), "/var/lib/keycast/kek");
  EXPECT_EQ(c.server.metrics_listen, (keymgr::HostPort{"127.0.0.1", 9700}));
  EXPECT_EQ(c.server.grace_ms, 2000U);
  EXPECT_EQ(c.server.max_connections, 20000U);
  EXPECT_EQ(c.server.idle_timeout_ms, 30000U);
  EXPECT_EQ(c.server.request_rate, 1000U);
  EXPECT_EQ(c.server.request_burst, 2000U);
  EXPECT_EQ(c.server.retention_days, 0U);
  EXPECT_FALSE(c.tls.has_value());
  ASSERT_EQ(c.peers.size(), 4U);
  EXPECT_EQ(c.find_peer("gw1")->shm, "keycast-gw1");
  const auto* replica = c.find_peer("replica1");
  ASSERT_NE(replica, nullptr);
  EXPECT_EQ(replica->role, keymgr::PeerRole::replica);
  EXPECT_EQ(replica->token, "replica1-lab-token");
  EXPECT_EQ(replica->channels, ids({1, 2, 3, 4}));
  expect_lab_peers_and_channels(c);
}

TEST(KeymgrConfig, ReplicaLabConfigLoads) {
  const KeymgrConfig c = keymgr::load_keymgr_config(kConfigDir + "/keymgr-replica-lab.toml");
  EXPECT_EQ(c.server.listen, (keymgr::HostPort{"127.0.0.1", 7701}));
  EXPECT_EQ(c.server.role, keymgr::ServerRole::replica);
  EXPECT_EQ(c.server.master, (keymgr::HostPort{"127.0.0.1", 7700}));
  EXPECT_EQ(c.server.replica_peer_id, "replica1");
  EXPECT_EQ(c.server.replica_token, "replica1-lab-token");
  EXPECT_TRUE(c.server.lab);
  EXPECT_EQ(c.server.kek_file, "kek");
  EXPECT_EQ(c.server.metrics_listen, (keymgr::HostPort{"127.0.0.1", 9701}));
  ASSERT_EQ(c.peers.size(), 3U);
  EXPECT_EQ(c.find_peer("replica1"), nullptr);
  expect_lab_peers_and_channels(c);
}

TEST(KeymgrConfig, ProductionConfigWithTlsAndEveryKey) {
  const KeymgrConfig c = keymgr::load_keymgr_config_string(
      R"([server]
listen = "[::1]:7700"
kek_file = "/etc/keycast/kek"
grace_ms = 0
max_connections = 5
idle_timeout_ms = 100
request_rate = 10
request_burst = 1
metrics_listen = "[::]:0"
retention_days = 400
[tls]
cert = "server.pem"
key = "/abs/server.key"
ca = "ca.pem"
[[peer]]
id = "adm"
role = "admin"
[[channel]]
id = 4294967295
suite = "aes256-ctr"
lifetime_ms = 1
threshold_x = 1e-3
threshold_y = 1e-4
rotate_bytes = 9223372036854775807
rotate_datagrams = 7
origin = "keymgr"
)",
      "prod.toml", "/etc/keycast");
  EXPECT_EQ(c.server.listen, (keymgr::HostPort{"::1", 7700}));
  EXPECT_EQ(keymgr::to_string(c.server.listen), "[::1]:7700");
  EXPECT_FALSE(c.server.lab);
  EXPECT_EQ(keymgr::kek_path(c.server, "/state"), "/etc/keycast/kek");
  EXPECT_EQ(c.server.grace_ms, 0U);
  EXPECT_EQ(c.server.request_burst, 1U);
  EXPECT_EQ(c.server.metrics_listen, (keymgr::HostPort{"::", 0}));
  EXPECT_EQ(c.server.retention_days, 400U);
  ASSERT_TRUE(c.tls.has_value());
  EXPECT_EQ(c.tls->cert, "/etc/keycast/server.pem");
  EXPECT_EQ(c.tls->key, "/abs/server.key");
  EXPECT_EQ(c.tls->ca, "/etc/keycast/ca.pem");
  EXPECT_TRUE(c.peers[0].token.empty());
  EXPECT_EQ(c.channels[0].id, 4294967295U);
  EXPECT_EQ(c.channels[0].key_length, 32U);
  EXPECT_EQ(c.channels[0].rotate_bytes, 9223372036854775807U);
  EXPECT_EQ(c.channels[0].rotate_datagrams, 7U);
}

TEST(HostPort, Parses) {
  std::string why;
  EXPECT_EQ(keymgr::parse_host_port("keymgr.example:1", &why), (keymgr::HostPort{"keymgr.example", 1}));
  EXPECT_EQ(keymgr::parse_host_port("0.0.0.0:65535", &why), (keymgr::HostPort{"0.0.0.0", 65535}));
  for (const char* bad : {"", ":1", "host", "host:", "host:x", "host:-1", "host:+1", "1.2.3.256:1", "[1.2.3.4]:1",
                          "::1:7700", "[::1]", "a b:1", "host:99999999999999999999"}) {
    EXPECT_FALSE(keymgr::parse_host_port(bad, &why).has_value()) << bad;
    EXPECT_FALSE(why.empty());
  }
}

// A valid lab prefix for the error cases: [server] on lines 1-4.
#define LAB_SERVER "[server]\nlisten = \"127.0.0.1:7700\"\nlab = true\nkek_file = \"kek\"\n"
#define CHANNEL1 "[[channel]]\nid = 1\nsuite = \"aes128-ctr\"\nlifetime_ms = 10000\n"

struct Case {
  const char* name;
  const char* text;
  const char* message;
};

class KeymgrConfigErrors : public ::testing::TestWithParam<Case> {};

TEST_P(KeymgrConfigErrors, ExactMessage) {
  try {
    (void)keymgr::load_keymgr_config_string(GetParam().text, "keymgr.toml");
    ADD_FAILURE() << "loaded";
  } catch (const tomlcheck::ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), GetParam().message);
  }
}

INSTANTIATE_TEST_SUITE_P(
    All, KeymgrConfigErrors,
    ::testing::Values(
        Case{"parse_error", LAB_SERVER "lab = false\n",
             "keymgr.toml:5:7: Error while parsing key-value pair: cannot redefine existing boolean 'lab'"},
        Case{"unknown_top_level", "[sever]\nlisten = \"127.0.0.1:1\"\n",
             "keymgr.toml:1:2: unknown key 'sever' in the top-level table"},
        Case{"unknown_server_key", "[server]\nlab = true\nlistne = \"127.0.0.1:7700\"\n",
             "keymgr.toml:3:1: unknown key 'listne' in [server]"},
        Case{"unknown_channel_key", LAB_SERVER CHANNEL1 "lifetime = 5\n",
             "keymgr.toml:9:1: unknown key 'lifetime' in [[channel]]"},
        Case{"unknown_tls_key", LAB_SERVER "[tls]\ncert = \"c\"\nkey = \"k\"\nca = \"a\"\ncrl = \"x\"\n" CHANNEL1,
             "keymgr.toml:9:1: unknown key 'crl' in [tls]"},
        Case{"missing_server", CHANNEL1, "keymgr.toml:1:1: missing table [server]"},
        Case{"missing_listen", "[server]\nlab = true\nkek_file = \"kek\"\n" CHANNEL1,
             "keymgr.toml:1:1: missing key 'listen' in [server]"},
        Case{"missing_kek_file", "[server]\nlisten = \"127.0.0.1:7700\"\nlab = true\n" CHANNEL1,
             "keymgr.toml:1:1: missing key 'kek_file' in [server]"},
        Case{"wrong_type_bool", "[server]\nlisten = \"127.0.0.1:7700\"\nlab = \"yes\"\n",
             "keymgr.toml:3:7: server.lab: expected a boolean, got a string"},
        Case{"wrong_type_int", LAB_SERVER "grace_ms = \"2s\"\n",
             "keymgr.toml:5:12: server.grace_ms: expected an integer, got a string"},
        Case{"retention_out_of_range", LAB_SERVER "retention_days = -1\n",
             "keymgr.toml:5:18: server.retention_days: must be between 0 and 36500, got -1"},
        Case{"wrong_type_float", LAB_SERVER CHANNEL1 "threshold_x = \"half\"\n",
             "keymgr.toml:9:15: channel.threshold_x: expected a number, got a string"},
        Case{"wrong_type_channels", LAB_SERVER CHANNEL1 "[[peer]]\nid = \"rx\"\nrole = \"receiver\"\n"
                                    "token = \"t\"\nchannels = 1\n",
             "keymgr.toml:13:12: peer.channels: expected an array of integers, got an integer"},
        Case{"channel_not_table", "channel = [1]\n" LAB_SERVER,
             "keymgr.toml:1:12: channel[0]: expected a table, got an integer"},
        Case{"bad_role", "[server]\nlisten = \"127.0.0.1:7700\"\nrole = \"primary\"\nlab = true\nkek_file = \"k\"\n",
             "keymgr.toml:3:8: server.role: must be \"master\" or \"replica\", got \"primary\""},
        Case{"no_channel", LAB_SERVER, "keymgr.toml:1:1: at least one [[channel]] is required"},
        Case{"lifetime_zero", LAB_SERVER "[[channel]]\nid = 1\nsuite = \"aes128-ctr\"\nlifetime_ms = 0\n",
             "keymgr.toml:8:15: channel.lifetime_ms: must be > 0"},
        Case{"lifetime_missing", LAB_SERVER "[[channel]]\nid = 1\nsuite = \"aes128-ctr\"\n",
             "keymgr.toml:5:1: missing key 'lifetime_ms' in [[channel]]"},
        Case{"lifetime_too_big", LAB_SERVER "[[channel]]\nid = 1\nsuite = \"xor\"\nkey_length = 4\n"
                                 "lifetime_ms = 4294967296\n",
             "keymgr.toml:9:15: channel.lifetime_ms: must be between 0 and 4294967295, got 4294967296"},
        Case{"channel_id_zero", LAB_SERVER "[[channel]]\nid = 0\nsuite = \"aes128-ctr\"\nlifetime_ms = 1\n",
             "keymgr.toml:6:6: channel.id: must be between 1 and 4294967295, got 0"},
        Case{"unknown_suite", LAB_SERVER "[[channel]]\nid = 1\nsuite = \"aes\"\nlifetime_ms = 1\n",
             "keymgr.toml:7:9: channel.suite: unknown suite \"aes\", expected one of xor, xor-inv, aes128-ctr, "
             "aes256-ctr, aes128-gcm"},
        Case{"x_equals_y", LAB_SERVER CHANNEL1 "threshold_x = 0.25\nthreshold_y = 0.25\n",
             "keymgr.toml:10:15: channel.threshold_y: threshold_y (0.25) must be less than threshold_x (0.25)"},
        Case{"x_below_default_y", LAB_SERVER CHANNEL1 "threshold_x = 0.2\n",
             "keymgr.toml:9:15: channel.threshold_x: threshold_y (0.25) must be less than threshold_x (0.2)"},
        Case{"x_not_below_1", LAB_SERVER CHANNEL1 "threshold_x = 1\n",
             "keymgr.toml:9:15: channel.threshold_x: must be between 0 and 1 (exclusive), got 1"},
        Case{"y_zero", LAB_SERVER CHANNEL1 "threshold_y = 0.0\n",
             "keymgr.toml:9:15: channel.threshold_y: must be between 0 and 1 (exclusive), got 0"},
        Case{"y_nan", LAB_SERVER CHANNEL1 "threshold_y = nan\n",
             "keymgr.toml:9:15: channel.threshold_y: must be between 0 and 1 (exclusive), got nan"},
        Case{"xor_key_too_long", LAB_SERVER "[[channel]]\nid = 2\nsuite = \"xor\"\nkey_length = 2000\n"
                                 "lifetime_ms = 10000\n",
             "keymgr.toml:8:14: channel.key_length: must be between 1 and 1024 for suite xor, got 2000"},
        Case{"xor_inv_key_too_long", LAB_SERVER "[[channel]]\nid = 2\nsuite = \"xor-inv\"\nkey_length = 513\n"
                                     "lifetime_ms = 10000\n",
             "keymgr.toml:8:14: channel.key_length: must be between 1 and 512 for suite xor-inv, got 513"},
        Case{"aes_key_length", LAB_SERVER CHANNEL1 "key_length = 32\n",
             "keymgr.toml:9:14: channel.key_length: must be 16 for suite aes128-ctr, got 32"},
        Case{"xor_key_length_missing", LAB_SERVER "[[channel]]\nid = 2\nsuite = \"xor\"\nlifetime_ms = 10000\n",
             "keymgr.toml:5:1: missing key 'key_length' in [[channel]] (required for suite xor)"},
        Case{"duplicate_channel", LAB_SERVER CHANNEL1 CHANNEL1,
             "keymgr.toml:10:6: channel.id: duplicate channel id 1 (first at line 6)"},
        Case{"bad_origin", LAB_SERVER CHANNEL1 "origin = \"receiver\"\n",
             "keymgr.toml:9:10: channel.origin: must be \"keymgr\" or \"gateway\", got \"receiver\""},
        Case{"origin_gateway_unfed", LAB_SERVER CHANNEL1 "origin = \"gateway\"\n",
             "keymgr.toml:9:10: channel.origin: channel 1 has origin \"gateway\" but no gateway peer lists it "
             "in feeds"},
        Case{"duplicate_peer", LAB_SERVER CHANNEL1 "[[peer]]\nid = \"rx1\"\nrole = \"receiver\"\ntoken = \"t\"\n"
                               "[[peer]]\nid = \"rx1\"\nrole = \"admin\"\ntoken = \"t\"\n",
             "keymgr.toml:14:6: peer.id: duplicate peer id 'rx1' (first at line 10)"},
        Case{"peer_id_too_long", LAB_SERVER CHANNEL1
             "[[peer]]\nid = \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n",
             "keymgr.toml:10:6: peer.id: must be 1 to 64 bytes long, got 65"},
        Case{"peer_bad_role", LAB_SERVER CHANNEL1 "[[peer]]\nid = \"x\"\nrole = \"scrambler\"\n",
             "keymgr.toml:11:8: peer.role: must be one of gateway, receiver, replica, admin, got \"scrambler\""},
        Case{"peer_unknown_channel", LAB_SERVER CHANNEL1 "[[peer]]\nid = \"rx1\"\nrole = \"receiver\"\n"
                                     "token = \"t\"\nchannels = [1, 9]\n",
             "keymgr.toml:13:16: peer.channels[1]: unknown channel 9"},
        Case{"peer_channel_twice", LAB_SERVER CHANNEL1 "[[peer]]\nid = \"rx1\"\nrole = \"receiver\"\n"
                                   "token = \"t\"\nchannels = [1, 1]\n",
             "keymgr.toml:13:16: peer.channels[1]: channel 1 is listed twice"},
        Case{"feeds_on_receiver", LAB_SERVER CHANNEL1 "[[peer]]\nid = \"rx1\"\nrole = \"receiver\"\n"
                                  "token = \"t\"\nfeeds = [1]\n",
             "keymgr.toml:13:9: peer.feeds: only a gateway may feed channels; peer 'rx1' is a receiver"},
        Case{"feeds_unknown_channel", LAB_SERVER CHANNEL1 "[[peer]]\nid = \"gw\"\nrole = \"gateway\"\n"
                                      "token = \"t\"\nfeeds = [2]\n",
             "keymgr.toml:13:10: peer.feeds[0]: unknown channel 2"},
        Case{"token_missing_in_lab", LAB_SERVER CHANNEL1 "[[peer]]\nid = \"rx1\"\nrole = \"receiver\"\n",
             "keymgr.toml:9:1: missing key 'token' in [[peer]] (required for every peer when server.lab = true)"},
        Case{"token_too_long", LAB_SERVER CHANNEL1 "[[peer]]\nid = \"rx1\"\nrole = \"receiver\"\ntoken = \"\"\n",
             "keymgr.toml:12:9: peer.token: must be 1 to 256 bytes long, got 0"},
        Case{"tls_missing", "[server]\nlisten = \"127.0.0.1:7700\"\nlab = false\nkek_file = \"kek\"\n" CHANNEL1,
             "keymgr.toml:3:7: missing table [tls] (required unless server.lab = true)"},
        Case{"tls_missing_no_lab_key", "[server]\nlisten = \"127.0.0.1:7700\"\nkek_file = \"kek\"\n" CHANNEL1,
             "keymgr.toml:1:1: missing table [tls] (required unless server.lab = true)"},
        Case{"tls_missing_ca", LAB_SERVER "[tls]\ncert = \"c\"\nkey = \"k\"\n" CHANNEL1,
             "keymgr.toml:5:1: missing key 'ca' in [tls]"},
        Case{"tls_replica_without_client_cert", "[server]\nlisten = \"127.0.0.1:7701\"\nrole = \"replica\"\n"
                                                "master = \"127.0.0.1:7700\"\nreplica_peer_id = \"r\"\n"
                                                "kek_file = \"kek\"\n[tls]\ncert = \"c\"\nkey = \"k\"\nca = \"a\"\n" CHANNEL1,
             "keymgr.toml:7:1: missing key 'client_cert' in [tls] (required for a replica: its certificate toward "
             "the master (CN = server.replica_peer_id))"},
        Case{"tls_master_with_client_key", LAB_SERVER "[tls]\ncert = \"c\"\nkey = \"k\"\nca = \"a\"\nclient_key = \"x\"\n" CHANNEL1,
             "keymgr.toml:9:14: tls.client_key: only allowed when server.role = \"replica\""},
        Case{"replica_without_master", "[server]\nlisten = \"127.0.0.1:7701\"\nrole = \"replica\"\nlab = true\n"
                                       "kek_file = \"kek\"\n" CHANNEL1,
             "keymgr.toml:1:1: missing key 'master' in [server] (required when role = \"replica\")"},
        Case{"replica_without_peer_id", "[server]\nlisten = \"127.0.0.1:7701\"\nrole = \"replica\"\n"
                                        "master = \"127.0.0.1:7700\"\nlab = true\nkek_file = \"kek\"\n" CHANNEL1,
             "keymgr.toml:1:1: missing key 'replica_peer_id' in [server] (required when role = \"replica\")"},
        Case{"replica_without_token_in_lab", "[server]\nlisten = \"127.0.0.1:7701\"\nrole = \"replica\"\n"
                                             "master = \"127.0.0.1:7700\"\nreplica_peer_id = \"r\"\nlab = true\n"
                                             "kek_file = \"kek\"\n" CHANNEL1,
             "keymgr.toml:1:1: missing key 'replica_token' in [server] (required for a replica when lab = true)"},
        Case{"replica_master_port_0", "[server]\nlisten = \"127.0.0.1:7701\"\nrole = \"replica\"\n"
                                      "master = \"127.0.0.1:0\"\n",
             "keymgr.toml:4:10: server.master: the master's port must not be 0"},
        Case{"master_with_master", LAB_SERVER "master = \"127.0.0.1:7700\"\n" CHANNEL1,
             "keymgr.toml:5:10: server.master: only allowed when role = \"replica\""},
        Case{"master_with_replica_token", LAB_SERVER "replica_token = \"t\"\n" CHANNEL1,
             "keymgr.toml:5:17: server.replica_token: only allowed when role = \"replica\""},
        Case{"listen_not_host_port", "[server]\nlisten = \"7700\"\n",
             "keymgr.toml:2:10: server.listen: expected host:port (IPv6 as [addr]:port), got \"7700\""},
        Case{"listen_port_range", "[server]\nlisten = \"127.0.0.1:65536\"\n",
             "keymgr.toml:2:10: server.listen: port 65536 is out of range (0..65535)"},
        Case{"listen_port_not_number", "[server]\nlisten = \"127.0.0.1:http\"\n",
             "keymgr.toml:2:10: server.listen: port 'http' is not a number"},
        Case{"listen_ipv6_unbracketed", "[server]\nlisten = \"::1:7700\"\n",
             "keymgr.toml:2:10: server.listen: IPv6 addresses must be bracketed: [::1]:7700"},
        Case{"listen_bad_ipv6", "[server]\nlisten = \"[::g]:7700\"\n",
             "keymgr.toml:2:10: server.listen: '::g' is not an IPv6 address"},
        Case{"metrics_bad", LAB_SERVER "metrics_listen = \"localhost\"\n",
             "keymgr.toml:5:18: server.metrics_listen: expected host:port (IPv6 as [addr]:port), got "
             "\"localhost\""},
        Case{"metrics_same_as_listen", LAB_SERVER "metrics_listen = \"127.0.0.1:7700\"\n" CHANNEL1,
             "keymgr.toml:5:18: server.metrics_listen: must differ from server.listen"},
        Case{"max_connections_zero", LAB_SERVER "max_connections = 0\n",
             "keymgr.toml:5:19: server.max_connections: must be between 1 and 4294967295, got 0"},
        Case{"shm_on_receiver", LAB_SERVER CHANNEL1 "[[peer]]\nid = \"rx1\"\nrole = \"receiver\"\n"
                                "token = \"t\"\nshm = \"keycast-rx1\"\n",
             "keymgr.toml:13:7: peer.shm: only a gateway has a shared-memory object; peer 'rx1' is a receiver"},
        Case{"shm_bad_prefix", LAB_SERVER CHANNEL1 "[[peer]]\nid = \"gw1\"\nrole = \"gateway\"\n"
                               "token = \"t\"\nshm = \"gw1\"\n",
             "keymgr.toml:13:7: peer.shm: must be \"keycast-\" followed by [A-Za-z0-9._-], at most 255 bytes "
             "in all, got \"gw1\""},
        Case{"shm_bad_char", LAB_SERVER CHANNEL1 "[[peer]]\nid = \"gw1\"\nrole = \"gateway\"\n"
                             "token = \"t\"\nshm = \"keycast-gw/1\"\n",
             "keymgr.toml:13:7: peer.shm: must be \"keycast-\" followed by [A-Za-z0-9._-], at most 255 bytes "
             "in all, got \"keycast-gw/1\""},
        Case{"shm_duplicate", LAB_SERVER CHANNEL1 "[[peer]]\nid = \"gw1\"\nrole = \"gateway\"\n"
                              "token = \"t\"\nshm = \"keycast-gw\"\n"
                              "[[peer]]\nid = \"gw2\"\nrole = \"gateway\"\ntoken = \"t\"\nshm = \"keycast-gw\"\n",
             "keymgr.toml:18:7: peer.shm: shared-memory name \"keycast-gw\" is already used by peer 'gw1'"}),
    [](const ::testing::TestParamInfo<Case>& i) { return std::string(i.param.name); });

}  // namespace
