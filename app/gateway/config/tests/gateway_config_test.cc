// Tests of the gateway config: both lab configs load with the values every
// later issue relies on, and each wrong config stops with its exact
// "FILE:LINE:COL: what" message.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "address.h"
#include "gateway_config.h"

namespace {

using gateway::GatewayConfig;
using gateway::PayloadKind;
using pktparse::Suite;

const std::string kConfigDir = KEYCAST_CONFIG_DIR;

std::string group(const gateway::Group& g) { return gateway::to_string(gateway::IpPort{g.addr, g.port}); }

void expect_lab_common(const GatewayConfig& c) {
  EXPECT_TRUE(c.worker_lcores.empty());
  EXPECT_EQ(c.burst, 32U);
  EXPECT_EQ(c.tx_drain_us, 100U);
  EXPECT_EQ(c.ports.inputs, (std::vector<std::uint16_t>{0}));
  EXPECT_EQ(c.idle_sleep_us, 0U);
  EXPECT_EQ(c.ports.output, 1U);
  EXPECT_EQ(c.ports.rx_descriptors, 1024U);
  EXPECT_EQ(c.ports.tx_descriptors, 1024U);
  EXPECT_EQ(c.ports.mbufs, 8191U);
  EXPECT_TRUE(c.ports.udp_checksum_offload);

  const gateway::KeySource& k = c.keys;
  ASSERT_EQ(k.endpoints.size(), 2U);
  EXPECT_EQ(k.endpoints[0].host, "127.0.0.1");
  EXPECT_EQ(k.endpoints[0].port, 7700U);
  EXPECT_EQ(k.endpoints[1].host, "127.0.0.1");
  EXPECT_EQ(k.endpoints[1].port, 7701U);
  EXPECT_EQ(k.failover, gateway::Failover::in_order);
  EXPECT_EQ(k.peer_id, "gw1");
  EXPECT_EQ(k.token, "gw1-lab-token");
  EXPECT_FALSE(k.tls_cert || k.tls_key || k.tls_ca);
  EXPECT_TRUE(k.shm.empty());
  EXPECT_EQ(k.connect_timeout_ms, 1000U);
  EXPECT_EQ(k.request_timeout_ms, 1000U);
  EXPECT_EQ(k.startup_timeout_ms, 10000U);
}

// Channel n: clear on 239.1.1.n:5000, scrambled on 239.2.1.n:5000.
void expect_lab_channels(const GatewayConfig& c, const char* in_prefix, const char* out_prefix) {
  ASSERT_EQ(c.channels.size(), 4U);
  const struct {
    std::uint32_t id;
    Suite suite;
    PayloadKind payload;
  } want[] = {
      {1, Suite::aes128_ctr, PayloadKind::raw},
      {2, Suite::xor_pattern, PayloadKind::ts},
      {3, Suite::aes128_gcm, PayloadKind::raw},
      {4, Suite::xor_inv, PayloadKind::ts},
  };
  for (const auto& w : want) {
    const auto* ch = c.find_channel(w.id);
    ASSERT_NE(ch, nullptr) << w.id;
    EXPECT_EQ(ch, &c.channels[w.id - 1]);
    EXPECT_EQ(group(ch->input), in_prefix + std::to_string(w.id) + ":5000");
    EXPECT_EQ(ch->input.addr.family, 4U);
    EXPECT_FALSE(ch->input.source.has_value());
    EXPECT_EQ(group(ch->output), out_prefix + std::to_string(w.id) + ":5000");
    EXPECT_EQ(ch->ttl, 16U);
    EXPECT_EQ(ch->suite, w.suite) << w.id;
    EXPECT_EQ(ch->payload, w.payload) << w.id;
    EXPECT_TRUE(ch->clear_pids.empty());
    EXPECT_EQ(ch->notice_interval_ms, 100U);
    EXPECT_TRUE(ch->tlv_key_remaining);
    EXPECT_FALSE(ch->tlv_keymgr_addr);
    EXPECT_EQ(ch->hold_datagrams, 64U);
    EXPECT_EQ(ch->hold_ms, 50U);
    EXPECT_DOUBLE_EQ(ch->fetch_at, 0.25);
  }
  EXPECT_EQ(c.find_channel(5), nullptr);
}

TEST(GatewayConfig, ScrambleLabConfigLoads) {
  const GatewayConfig c = gateway::load_gateway_config(kConfigDir + "/gateway-scramble-lab.toml");
  EXPECT_EQ(c.mode, gateway::Mode::scramble);
  EXPECT_EQ(gateway::to_string(c.mode), "scramble");
  EXPECT_EQ(c.metrics_listen, "127.0.0.1:9800");
  expect_lab_common(c);
  expect_lab_channels(c, "239.1.1.", "239.2.1.");
  const auto* ch4 = c.find_channel(4);
  ASSERT_NE(ch4, nullptr);
  EXPECT_EQ(ch4->origin, gateway::KeyOrigin::gateway);
  EXPECT_EQ(ch4->key_length, 64U);
  EXPECT_EQ(ch4->lifetime_ms, 10000U);
  EXPECT_DOUBLE_EQ(ch4->next_key_at, 0.5);
  EXPECT_EQ(c.find_channel(1)->origin, gateway::KeyOrigin::keymgr);
}

TEST(GatewayConfig, DescrambleLabConfigLoads) {
  const GatewayConfig c = gateway::load_gateway_config(kConfigDir + "/gateway-descramble-lab.toml");
  EXPECT_EQ(c.mode, gateway::Mode::descramble);
  EXPECT_EQ(gateway::to_string(c.mode), "descramble");
  EXPECT_EQ(c.metrics_listen, "127.0.0.1:9801");
  expect_lab_common(c);
  expect_lab_channels(c, "239.2.1.", "239.1.1.");
}

TEST(GatewayConfig, MissingFile) {
  try {
    (void)gateway::load_gateway_config(kConfigDir + "/no-such-gateway.toml");
    ADD_FAILURE() << "loaded";
  } catch (const tomlcheck::ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), kConfigDir + "/no-such-gateway.toml: cannot read: No such file or directory");
  }
}

TEST(GatewayConfig, TlsIpv6SsmAndEveryKey) {
  const GatewayConfig c = gateway::load_gateway_config_string(
      R"(mode = "scramble"
worker_lcores = [3, 1]
burst = 512
tx_drain_us = 1
idle_sleep_us = 100000
metrics_listen = "[::1]:0"
seq_file = "state/gw9.seq"
usage_file = "/var/lib/keycast/gw9.usage"
[ports]
inputs = [2, 3]
output = 0
rx_descriptors = 64
tx_descriptors = 16384
mbufs = 16448
udp_checksum_offload = false
[keys]
endpoints = ["[::1]:7700", "10.0.0.9:1"]
failover = "round_robin"
peer_id = "gw9"
tls_cert = "gw9.pem"
tls_key = "/abs/gw9.key"
tls_ca = "sub/ca.pem"
shm = "keycast-gw9"
connect_timeout_ms = 1
request_timeout_ms = 2
startup_timeout_ms = 3
[[channel]]
id = 4294967295
input = "[ff3e::1]:1"
input_source = "2001:db8::7"
output = "[FF05::0:2]:65535"
ttl = 255
suite = "aes256-ctr"
payload = "rtp_ts"
clear_pids = [8191, 0, 256]
notice_interval_ms = 7
tlv_key_remaining = false
tlv_keymgr_addr = true
[[channel]]
id = 1
input = "224.0.0.1:5000"
input_source = "10.0.0.1"
output = "239.255.255.255:5000"
suite = "aes128-gcm"
payload = "ts"
udp_checksum = false
)",
      "prod.toml", "/etc/keycast");
  EXPECT_EQ(c.worker_lcores, (std::vector<unsigned>{3, 1}));
  EXPECT_EQ(c.burst, 512U);
  EXPECT_EQ(c.tx_drain_us, 1U);
  EXPECT_EQ(c.metrics_listen, "[::1]:0");
  EXPECT_EQ(c.seq_file, std::filesystem::path("/etc/keycast/state/gw9.seq"));
  EXPECT_EQ(c.usage_file, std::filesystem::path("/var/lib/keycast/gw9.usage"));
  EXPECT_EQ(c.ports.inputs, (std::vector<std::uint16_t>{2, 3}));
  EXPECT_EQ(c.idle_sleep_us, 100000U);
  EXPECT_EQ(c.ports.output, 0U);
  EXPECT_EQ(c.ports.rx_descriptors, 64U);
  EXPECT_EQ(c.ports.tx_descriptors, 16384U);
  EXPECT_EQ(c.ports.mbufs, 16448U);
  EXPECT_FALSE(c.ports.udp_checksum_offload);
  ASSERT_EQ(c.keys.endpoints.size(), 2U);
  EXPECT_EQ(c.keys.endpoints[0].host, "::1");
  EXPECT_EQ(c.keys.endpoints[0].port, 7700U);
  EXPECT_EQ(c.keys.endpoints[1].host, "10.0.0.9");
  EXPECT_EQ(c.keys.endpoints[1].port, 1U);
  EXPECT_EQ(c.keys.failover, gateway::Failover::round_robin);
  EXPECT_EQ(c.keys.peer_id, "gw9");
  EXPECT_TRUE(c.keys.token.empty());
  EXPECT_EQ(c.keys.tls_cert, std::filesystem::path("/etc/keycast/gw9.pem"));
  EXPECT_EQ(c.keys.tls_key, std::filesystem::path("/abs/gw9.key"));
  EXPECT_EQ(c.keys.tls_ca, std::filesystem::path("/etc/keycast/sub/ca.pem"));
  EXPECT_EQ(c.keys.shm, "keycast-gw9");
  EXPECT_EQ(c.keys.connect_timeout_ms, 1U);
  EXPECT_EQ(c.keys.request_timeout_ms, 2U);
  EXPECT_EQ(c.keys.startup_timeout_ms, 3U);

  ASSERT_EQ(c.channels.size(), 2U);
  const gateway::ChannelConfig& v6 = c.channels[0];
  EXPECT_EQ(v6.id, 4294967295U);
  EXPECT_EQ(group(v6.input), "[ff3e::1]:1");
  EXPECT_EQ(v6.input.addr.family, 6U);
  ASSERT_TRUE(v6.input.source.has_value());
  EXPECT_EQ(gateway::to_string(*v6.input.source), "2001:db8::7");
  EXPECT_EQ(group(v6.output), "[ff05::2]:65535");
  EXPECT_EQ(v6.ttl, 255U);
  EXPECT_EQ(v6.suite, Suite::aes256_ctr);
  EXPECT_EQ(v6.payload, PayloadKind::rtp_ts);
  EXPECT_EQ(gateway::to_string(v6.payload), "rtp_ts");
  EXPECT_EQ(v6.clear_pids, (std::vector<std::uint16_t>{8191, 0, 256}));
  EXPECT_EQ(v6.notice_interval_ms, 7U);
  EXPECT_FALSE(v6.tlv_key_remaining);
  EXPECT_TRUE(v6.udp_checksum);
  EXPECT_FALSE(c.channels[1].udp_checksum);
  EXPECT_TRUE(v6.tlv_keymgr_addr);
  const gateway::ChannelConfig& v4 = c.channels[1];
  EXPECT_EQ(group(v4.input), "224.0.0.1:5000");
  ASSERT_TRUE(v4.input.source.has_value());
  EXPECT_EQ(gateway::to_string(*v4.input.source), "10.0.0.1");
  EXPECT_EQ(v4.suite, Suite::aes128_gcm);  // GCM over TS: the whole payload is scrambled
  EXPECT_EQ(v4.payload, PayloadKind::ts);
}

TEST(GatewayConfig, UsageFileNeedsKeymgrEndpoints) {
  try {
    (void)gateway::load_gateway_config_string(
        "mode = \"scramble\"\nusage_file = \"gw.usage\"\n[ports]\ninput = 0\noutput = 1\n[keys]\n"
        "shm = \"keycast-gw1\"\n[[channel]]\nid = 1\ninput = \"239.1.1.1:5000\"\noutput = \"239.2.1.1:5000\"\n"
        "suite = \"xor\"\n",
        "gw.toml");
    FAIL() << "loaded";
  } catch (const tomlcheck::ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "gw.toml:2:14: usage_file: needs keys.endpoints: usage reports go to the key manager over TCP");
  }
}

TEST(GatewayConfig, SharedMemoryOnlyDescramble) {
  const GatewayConfig c = gateway::load_gateway_config_string(
      "mode = \"descramble\"\n[ports]\ninput = 0\noutput = 1\n[keys]\nshm = \"keycast-gw1\"\n"
      "startup_timeout_ms = 500\n[[channel]]\nid = 1\ninput = \"239.2.1.1:5000\"\noutput = \"239.1.1.1:5000\"\n"
      "suite = \"xor\"\npayload = \"rtp\"\nhold_datagrams = 1\nhold_ms = 1\nfetch_at = 0.999\n",
      "shm.toml");
  EXPECT_TRUE(c.keys.endpoints.empty());
  EXPECT_EQ(c.keys.shm, "keycast-gw1");
  EXPECT_EQ(c.keys.startup_timeout_ms, 500U);
  EXPECT_TRUE(c.keys.token.empty());
  ASSERT_EQ(c.channels.size(), 1U);
  EXPECT_EQ(c.channels[0].payload, PayloadKind::rtp);
  EXPECT_EQ(c.channels[0].hold_datagrams, 1U);
  EXPECT_EQ(c.channels[0].hold_ms, 1U);
  EXPECT_DOUBLE_EQ(c.channels[0].fetch_at, 0.999);
}

TEST(Address, ParsesIpLiteralsOnly) {
  std::string why;
  const auto v4 = gateway::parse_ip_port("239.1.1.1:5000", 1, &why);
  ASSERT_TRUE(v4.has_value());
  EXPECT_EQ(v4->addr.family, 4U);
  EXPECT_EQ(v4->addr.bytes[0], 239U);
  EXPECT_EQ(v4->addr.bytes[3], 1U);
  EXPECT_EQ(v4->port, 5000U);
  EXPECT_TRUE(gateway::is_multicast(v4->addr));
  EXPECT_TRUE(gateway::parse_ip_port("0.0.0.0:0", 0, &why).has_value());
  for (const char* bad : {"", ":1", "1.2.3.4", "1.2.3.4:", "1.2.3.4:x", "1.2.3.4:0", "1.2.3.4:65536", "host:1",
                          "1.2.3.256:1", "01.2.3.4:1", "[1.2.3.4]:1", "::1:7700", "[::1]", "[fe80::1%eth0]:1",
                          "1.2.3.4:+1", "1.2.3.4:99999999999999999999"}) {
    why.clear();
    EXPECT_FALSE(gateway::parse_ip_port(bad, 1, &why).has_value()) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
  EXPECT_FALSE(gateway::is_multicast(*gateway::parse_ip("223.255.255.255")));
  EXPECT_TRUE(gateway::is_multicast(*gateway::parse_ip("224.0.0.0")));
  EXPECT_FALSE(gateway::is_multicast(*gateway::parse_ip("240.0.0.0")));
  EXPECT_TRUE(gateway::is_multicast(*gateway::parse_ip("ff02::1")));
  EXPECT_FALSE(gateway::is_multicast(*gateway::parse_ip("fe80::1")));
  EXPECT_TRUE(gateway::is_unspecified(*gateway::parse_ip("::")));
  EXPECT_FALSE(gateway::parse_ip("example.com").has_value());
}

// A valid scramble prefix for the error cases: lines 1-8.
#define HEAD "mode = \"scramble\"\n[ports]\ninput = 0\noutput = 1\n"
#define KEYS "[keys]\nendpoints = [\"127.0.0.1:7700\"]\npeer_id = \"gw1\"\ntoken = \"t\"\n"
#define LAB HEAD KEYS
// Channel 1 on lines 9-13.
#define CH1 "[[channel]]\nid = 1\ninput = \"239.1.1.1:5000\"\noutput = \"239.2.1.1:5000\"\nsuite = \"xor\"\n"
#define CH(id, in) "[[channel]]\nid = " #id "\ninput = \"" in "\"\noutput = \"239.2.1.9:5000\"\nsuite = \"xor\"\n"

struct Case {
  const char* name;
  const char* text;
  const char* message;
};

class GatewayConfigErrors : public ::testing::TestWithParam<Case> {};

TEST_P(GatewayConfigErrors, ExactMessage) {
  try {
    (void)gateway::load_gateway_config_string(GetParam().text, "gw.toml");
    ADD_FAILURE() << "loaded";
  } catch (const tomlcheck::ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), GetParam().message);
  }
}

INSTANTIATE_TEST_SUITE_P(
    All, GatewayConfigErrors,
    ::testing::Values(
        // Syntax, unknown keys, wrong types, missing sections.
        Case{"parse_error", "mode = \"scramble\"\nmode = \"descramble\"\n",
             "gw.toml:2:8: Error while parsing key-value pair: cannot redefine existing string 'mode'"},
        Case{"unknown_root_key", "bursts = 4\n" LAB CH1, "gw.toml:1:1: unknown key 'bursts' in the top-level table"},
        Case{"unknown_table", LAB CH1 "[port]\ninput = 0\n", "gw.toml:14:2: unknown key 'port' in the top-level table"},
        Case{"unknown_ports_key", HEAD "rx_desc = 512\n", "gw.toml:5:1: unknown key 'rx_desc' in [ports]"},
        Case{"unknown_keys_key", LAB "endpoint = \"127.0.0.1:1\"\n",
             "gw.toml:9:1: unknown key 'endpoint' in [keys]"},
        Case{"unknown_channel_key", LAB CH1 "group = \"239.1.1.1\"\n",
             "gw.toml:14:1: unknown key 'group' in [[channel]]"},
        Case{"missing_mode", "[ports]\ninput = 0\noutput = 1\n",
             "gw.toml:1:1: missing key 'mode' in the top-level table"},
        Case{"bad_mode", "mode = \"both\"\n",
             "gw.toml:1:8: mode: must be \"scramble\" or \"descramble\", got \"both\""},
        Case{"mode_not_string", "mode = 1\n", "gw.toml:1:8: mode: expected a string, got an integer"},
        Case{"missing_ports", "mode = \"scramble\"\n", "gw.toml:1:1: missing table [ports]"},
        Case{"ports_not_table", "mode = \"scramble\"\nports = 0\n",
             "gw.toml:2:9: ports: expected a table, got an integer"},
        Case{"missing_keys", HEAD CH1, "gw.toml:1:1: missing table [keys]"},
        Case{"no_channel", LAB, "gw.toml:1:1: at least one [[channel]] is required"},
        Case{"channel_not_table", "channel = [1]\n" LAB,
             "gw.toml:1:12: channel[0]: expected a table, got an integer"},
        // Top level.
        Case{"burst_zero", "burst = 0\n", "gw.toml:1:9: burst: must be between 1 and 512, got 0"},
        Case{"burst_too_big", "burst = 513\n", "gw.toml:1:9: burst: must be between 1 and 512, got 513"},
        Case{"burst_float", "burst = 32.0\n", "gw.toml:1:9: burst: expected an integer, got a float"},
        Case{"tx_drain_zero", "tx_drain_us = 0\n",
             "gw.toml:1:15: tx_drain_us: must be between 1 and 1000000, got 0"},
        Case{"lcores_not_array", "worker_lcores = 1\n",
             "gw.toml:1:17: worker_lcores: expected an array of integers, got an integer"},
        Case{"lcores_negative", "worker_lcores = [1, -1]\n",
             "gw.toml:1:21: worker_lcores[1]: must be between 0 and 4294967295, got -1"},
        Case{"lcores_empty", "mode = \"scramble\"\nworker_lcores = []\n",
             "gw.toml:2:17: worker_lcores: must list at least one lcore (leave it out for every lcore but the main "
             "one)"},
        Case{"lcores_twice", "mode = \"scramble\"\nworker_lcores = [1, 2, 1]\n",
             "gw.toml:2:24: worker_lcores[2]: lcore 1 is listed twice"},
        Case{"metrics_name", "mode = \"scramble\"\nmetrics_listen = \"localhost:9800\"\n",
             "gw.toml:2:18: metrics_listen: 'localhost' is not an IPv4 address (names are not allowed)"},
        Case{"metrics_no_port", "mode = \"scramble\"\nmetrics_listen = \"127.0.0.1\"\n",
             "gw.toml:2:18: metrics_listen: expected address:port (IPv6 as [addr]:port), got \"127.0.0.1\""},
        Case{"seq_file_descramble", "mode = \"descramble\"\nseq_file = \"gw.seq\"\n",
             "gw.toml:2:12: seq_file: only allowed when mode = \"scramble\" (only a scrambler numbers datagrams)"},
        Case{"seq_file_empty", "mode = \"scramble\"\nseq_file = \"\"\n", "gw.toml:2:12: seq_file: must not be empty"},
        Case{"seq_file_directory", "mode = \"scramble\"\nseq_file = \"/var/lib/keycast/\"\n",
             "gw.toml:2:12: seq_file: must name a file, got the directory \"/var/lib/keycast/\""},
        Case{"seq_file_not_string", "mode = \"scramble\"\nseq_file = 1\n",
             "gw.toml:2:12: seq_file: expected a string, got an integer"},
        Case{"usage_file_descramble", "mode = \"descramble\"\nusage_file = \"gw.usage\"\n",
             "gw.toml:2:14: usage_file: only allowed when mode = \"scramble\" (only a scrambler reports usage)"},
        Case{"usage_file_directory", "mode = \"scramble\"\nusage_file = \"state/\"\n",
             "gw.toml:2:14: usage_file: must name a file, got the directory \"state/\""},
        // [ports]
        Case{"ports_same", "mode = \"scramble\"\n[ports]\ninput = 1\noutput = 1\n",
             "gw.toml:4:10: ports.output: must differ from the input ports, both have 1"},
        Case{"ports_output_in_inputs", "mode = \"scramble\"\n[ports]\ninputs = [0, 1]\noutput = 1\n",
             "gw.toml:4:10: ports.output: must differ from the input ports, both have 1"},
        Case{"ports_input_and_inputs", "mode = \"scramble\"\n[ports]\ninput = 0\ninputs = [2]\noutput = 1\n",
             "gw.toml:4:10: ports.inputs: give either ports.input or ports.inputs, not both"},
        Case{"ports_inputs_twice", "mode = \"scramble\"\n[ports]\ninputs = [0, 2, 0]\noutput = 1\n",
             "gw.toml:3:17: ports.inputs[2]: port 0 is listed twice"},
        Case{"ports_inputs_empty", "mode = \"scramble\"\n[ports]\ninputs = []\noutput = 1\n",
             "gw.toml:3:10: ports.inputs: must list at least one port"},
        Case{"ports_missing_input", "mode = \"scramble\"\n[ports]\noutput = 1\n",
             "gw.toml:2:1: missing key 'input' in [ports] (or inputs = [N, ...])"},
        Case{"idle_sleep_too_big", "idle_sleep_us = 100001\n",
             "gw.toml:1:17: idle_sleep_us: must be between 0 and 100000, got 100001"},
        Case{"ports_missing_output", "mode = \"scramble\"\n[ports]\ninput = 0\n",
             "gw.toml:2:1: missing key 'output' in [ports]"},
        Case{"ports_out_of_range", "mode = \"scramble\"\n[ports]\ninput = 65536\n",
             "gw.toml:3:9: ports.input: must be between 0 and 65535, got 65536"},
        Case{"rx_not_power_of_two", HEAD "rx_descriptors = 1000\n",
             "gw.toml:5:18: ports.rx_descriptors: must be a power of two, got 1000"},
        Case{"tx_too_small", HEAD "tx_descriptors = 32\n",
             "gw.toml:5:18: ports.tx_descriptors: must be between 64 and 16384, got 32"},
        Case{"tx_too_big", HEAD "tx_descriptors = 32768\n",
             "gw.toml:5:18: ports.tx_descriptors: must be between 64 and 16384, got 32768"},
        Case{"offload_not_bool", HEAD "udp_checksum_offload = 1\n",
             "gw.toml:5:24: ports.udp_checksum_offload: expected a boolean, got an integer"},
        Case{"mbufs_too_few", HEAD "mbufs = 2047\n",
             "gw.toml:5:9: ports.mbufs: must be at least rx_descriptors + tx_descriptors (2048), got 2047"},
        // [keys]
        Case{"endpoints_missing", HEAD "[keys]\npeer_id = \"gw1\"\n",
             "gw.toml:5:1: missing key 'endpoints' in [keys] (required unless shm is set)"},
        Case{"endpoints_not_array", HEAD "[keys]\nendpoints = \"127.0.0.1:7700\"\n",
             "gw.toml:6:13: keys.endpoints: expected an array of strings, got a string"},
        Case{"endpoints_not_strings", HEAD "[keys]\nendpoints = [\"127.0.0.1:7700\", 7701]\n",
             "gw.toml:6:32: keys.endpoints[1]: expected a string, got an integer"},
        Case{"endpoints_empty", HEAD "[keys]\nendpoints = []\n",
             "gw.toml:6:13: keys.endpoints: must list at least one key manager"},
        Case{"endpoint_name", HEAD "[keys]\nendpoints = [\"keymgr.lab:7700\"]\n",
             "gw.toml:6:14: keys.endpoints[0]: 'keymgr.lab' is not an IPv4 address (names are not allowed)"},
        Case{"endpoint_port_zero", HEAD "[keys]\nendpoints = [\"127.0.0.1:0\"]\n",
             "gw.toml:6:14: keys.endpoints[0]: port 0 is out of range (1..65535)"},
        Case{"endpoint_port_range", HEAD "[keys]\nendpoints = [\"127.0.0.1:65536\"]\n",
             "gw.toml:6:14: keys.endpoints[0]: port 65536 is out of range (1..65535)"},
        Case{"endpoint_port_not_number", HEAD "[keys]\nendpoints = [\"127.0.0.1:keys\"]\n",
             "gw.toml:6:14: keys.endpoints[0]: port 'keys' is not a number"},
        Case{"endpoint_v6_unbracketed", HEAD "[keys]\nendpoints = [\"::1:7700\"]\n",
             "gw.toml:6:14: keys.endpoints[0]: IPv6 addresses must be bracketed: [::1]:7700"},
        Case{"endpoint_bad_v6", HEAD "[keys]\nendpoints = [\"[::g]:7700\"]\n",
             "gw.toml:6:14: keys.endpoints[0]: '::g' is not an IPv6 address"},
        Case{"endpoint_twice", HEAD "[keys]\nendpoints = [\"[::1]:7700\", \"127.0.0.1:7700\", \"[0::1]:7700\"]\n",
             "gw.toml:6:46: keys.endpoints[2]: [::1]:7700 is listed twice"},
        Case{"bad_failover", HEAD KEYS "failover = \"random\"\n",
             "gw.toml:9:12: keys.failover: must be \"in_order\" or \"round_robin\", got \"random\""},
        Case{"peer_id_missing", HEAD "[keys]\nendpoints = [\"127.0.0.1:7700\"]\ntoken = \"t\"\n",
             "gw.toml:5:1: missing key 'peer_id' in [keys] (required with endpoints)"},
        Case{"peer_id_empty", HEAD "[keys]\nendpoints = [\"127.0.0.1:7700\"]\npeer_id = \"\"\n",
             "gw.toml:7:11: keys.peer_id: must be 1 to 64 bytes long, got 0"},
        Case{"no_credentials", HEAD "[keys]\nendpoints = [\"127.0.0.1:7700\"]\npeer_id = \"gw1\"\n",
             "gw.toml:5:1: missing key 'token' in [keys] (or tls_cert, tls_key and tls_ca for TLS)"},
        Case{"token_and_tls", LAB "tls_cert = \"c\"\ntls_key = \"k\"\ntls_ca = \"a\"\n",
             "gw.toml:8:9: keys.token: a lab token and TLS files (tls_cert, tls_key, tls_ca) exclude each other"},
        Case{"token_and_one_tls_file", LAB "tls_ca = \"a\"\n",
             "gw.toml:8:9: keys.token: a lab token and TLS files (tls_cert, tls_key, tls_ca) exclude each other"},
        Case{"tls_without_key", HEAD "[keys]\nendpoints = [\"127.0.0.1:7700\"]\npeer_id = \"gw1\"\n"
                                "tls_cert = \"c\"\ntls_ca = \"a\"\n",
             "gw.toml:5:1: missing key 'tls_key' in [keys] (tls_cert, tls_key and tls_ca go together)"},
        Case{"tls_empty_ca", HEAD "[keys]\nendpoints = [\"127.0.0.1:7700\"]\npeer_id = \"gw1\"\n"
                             "tls_cert = \"c\"\ntls_key = \"k\"\ntls_ca = \"\"\n",
             "gw.toml:10:10: keys.tls_ca: must not be empty"},
        Case{"token_empty", HEAD "[keys]\nendpoints = [\"127.0.0.1:7700\"]\npeer_id = \"gw1\"\ntoken = \"\"\n",
             "gw.toml:8:9: keys.token: must be 1 to 256 bytes long, got 0"},
        Case{"shm_bad_name", HEAD "[keys]\nshm = \"gw1\"\n",
             "gw.toml:6:7: keys.shm: must be \"keycast-\" followed by [A-Za-z0-9._-], at most 255 bytes in all, "
             "got \"gw1\""},
        Case{"shm_with_token", HEAD "[keys]\nshm = \"keycast-gw1\"\ntoken = \"t\"\n",
             "gw.toml:7:9: keys.token: only allowed when keys.endpoints is set"},
        Case{"connect_timeout_zero", LAB "connect_timeout_ms = 0\n",
             "gw.toml:9:22: keys.connect_timeout_ms: must be between 1 and 4294967295, got 0"},
        // [[channel]]: groups.
        Case{"channel_id_missing", LAB "[[channel]]\ninput = \"239.1.1.1:5000\"\n",
             "gw.toml:9:1: missing key 'id' in [[channel]]"},
        Case{"channel_id_zero", LAB "[[channel]]\nid = 0\n",
             "gw.toml:10:6: channel.id: must be between 1 and 4294967295, got 0"},
        Case{"input_missing", LAB "[[channel]]\nid = 1\n", "gw.toml:9:1: missing key 'input' in [[channel]]"},
        Case{"input_not_multicast", LAB CH(1, "10.1.1.1:5000"),
             "gw.toml:11:9: channel.input: 10.1.1.1 is not a multicast group (IPv4 224.0.0.0/4, IPv6 ff00::/8)"},
        Case{"input_class_e", LAB CH(1, "240.0.0.1:5000"),
             "gw.toml:11:9: channel.input: 240.0.0.1 is not a multicast group (IPv4 224.0.0.0/4, IPv6 ff00::/8)"},
        Case{"input_v6_not_multicast", LAB CH(1, "[fe80::1]:5000"),
             "gw.toml:11:9: channel.input: fe80::1 is not a multicast group (IPv4 224.0.0.0/4, IPv6 ff00::/8)"},
        Case{"input_port_zero", LAB CH(1, "239.1.1.1:0"),
             "gw.toml:11:9: channel.input: port 0 is out of range (1..65535)"},
        Case{"input_no_port", LAB CH(1, "239.1.1.1"),
             "gw.toml:11:9: channel.input: expected address:port (IPv6 as [addr]:port), got \"239.1.1.1\""},
        Case{"output_not_multicast", LAB "[[channel]]\nid = 1\ninput = \"239.1.1.1:5000\"\noutput = "
                                     "\"192.168.1.1:5000\"\n",
             "gw.toml:12:10: channel.output: 192.168.1.1 is not a multicast group (IPv4 224.0.0.0/4, IPv6 "
             "ff00::/8)"},
        Case{"output_port_range", LAB "[[channel]]\nid = 1\ninput = \"239.1.1.1:5000\"\noutput = "
                                  "\"239.2.1.1:70000\"\n",
             "gw.toml:12:10: channel.output: port 70000 is out of range (1..65535)"},
        Case{"family_mismatch", LAB "[[channel]]\nid = 1\ninput = \"239.1.1.1:5000\"\noutput = \"[ff3e::1]:5000\"\n",
             "gw.toml:12:10: channel.output: is IPv6 but channel.input is IPv4; a channel's input and output must "
             "be the same IP family"},
        Case{"source_bad", LAB CH1 "input_source = \"10.0.0\"\n",
             "gw.toml:14:16: channel.input_source: '10.0.0' is not an IPv4 or IPv6 address"},
        Case{"source_multicast", LAB CH1 "input_source = \"239.0.0.1\"\n",
             "gw.toml:14:16: channel.input_source: 239.0.0.1 is not a unicast address"},
        Case{"source_family", LAB CH1 "input_source = \"2001:db8::1\"\n",
             "gw.toml:14:16: channel.input_source: is IPv6 but the input group is IPv4"},
        Case{"ttl_zero", LAB CH1 "ttl = 0\n", "gw.toml:14:7: channel.ttl: must be between 1 and 255, got 0"},
        // [[channel]]: suite and payload.
        Case{"suite_missing", LAB "[[channel]]\nid = 1\ninput = \"239.1.1.1:5000\"\noutput = \"239.2.1.1:5000\"\n",
             "gw.toml:9:1: missing key 'suite' in [[channel]]"},
        Case{"unknown_suite", LAB "[[channel]]\nid = 1\ninput = \"239.1.1.1:5000\"\noutput = \"239.2.1.1:5000\"\n"
                              "suite = \"aes\"\n",
             "gw.toml:13:9: channel.suite: unknown suite \"aes\", expected one of xor, xor-inv, aes128-ctr, "
             "aes256-ctr, aes128-gcm"},
        Case{"bad_payload", LAB CH1 "payload = \"mpegts\"\n",
             "gw.toml:14:11: channel.payload: must be one of raw, ts, rtp, rtp_ts, got \"mpegts\""},
        Case{"clear_pids_raw", LAB CH1 "clear_pids = [256]\n",
             "gw.toml:14:14: channel.clear_pids: only allowed with payload \"ts\" or \"rtp_ts\", payload is \"raw\""},
        Case{"clear_pids_rtp", LAB CH1 "payload = \"rtp\"\nclear_pids = [256]\n",
             "gw.toml:15:14: channel.clear_pids: only allowed with payload \"ts\" or \"rtp_ts\", payload is \"rtp\""},
        Case{"clear_pid_range", LAB CH1 "payload = \"ts\"\nclear_pids = [256, 8192]\n",
             "gw.toml:15:20: channel.clear_pids[1]: must be between 0 and 8191, got 8192"},
        Case{"clear_pid_twice", LAB CH1 "payload = \"ts\"\nclear_pids = [256, 257, 256]\n",
             "gw.toml:15:25: channel.clear_pids[2]: PID 256 is listed twice"},
        Case{"udp_checksum_v6", LAB "[[channel]]\nid = 1\ninput = \"[ff3e::1]:1\"\noutput = \"[ff3e::2]:1\"\n"
                                   "suite = \"xor\"\nudp_checksum = false\n",
             "gw.toml:14:16: channel.udp_checksum: IPv6 has no optional UDP checksum (RFC 8200): only an IPv4 "
             "output may leave it out"},
        Case{"tlv_not_bool", LAB CH1 "tlv_key_remaining = 1\n",
             "gw.toml:14:21: channel.tlv_key_remaining: expected a boolean, got an integer"},
        // [[channel]]: per-mode keys.
        Case{"hold_in_scramble", LAB CH1 "hold_ms = 50\n",
             "gw.toml:14:11: channel.hold_ms: only allowed when mode = \"descramble\""},
        Case{"fetch_at_in_scramble", LAB CH1 "fetch_at = 0.25\n",
             "gw.toml:14:12: channel.fetch_at: only allowed when mode = \"descramble\""},
        Case{"notice_in_descramble", "mode = \"descramble\"\n[ports]\ninput = 0\noutput = 1\n" KEYS CH1
                                     "notice_interval_ms = 100\n",
             "gw.toml:14:22: channel.notice_interval_ms: only allowed when mode = \"scramble\""},
        Case{"fetch_at_one", "mode = \"descramble\"\n[ports]\ninput = 0\noutput = 1\n" KEYS CH1 "fetch_at = 1\n",
             "gw.toml:14:12: channel.fetch_at: must be between 0 and 1 (exclusive), got 1"},
        Case{"fetch_at_zero", "mode = \"descramble\"\n[ports]\ninput = 0\noutput = 1\n" KEYS CH1
                              "fetch_at = 0.0\n",
             "gw.toml:14:12: channel.fetch_at: must be between 0 and 1 (exclusive), got 0"},
        Case{"fetch_at_nan", "mode = \"descramble\"\n[ports]\ninput = 0\noutput = 1\n" KEYS CH1 "fetch_at = nan\n",
             "gw.toml:14:12: channel.fetch_at: must be between 0 and 1 (exclusive), got nan"},
        Case{"hold_zero", "mode = \"descramble\"\n[ports]\ninput = 0\noutput = 1\n" KEYS CH1
                          "hold_datagrams = 0\n",
             "gw.toml:14:18: channel.hold_datagrams: must be between 1 and 4294967295, got 0"},
        Case{"notice_zero", LAB CH1 "notice_interval_ms = 0\n",
             "gw.toml:14:22: channel.notice_interval_ms: must be between 1 and 4294967295, got 0"},
        Case{"keymgr_addr_without_endpoints", HEAD "[keys]\nshm = \"keycast-gw1\"\n" CH1 "tlv_keymgr_addr = true\n",
             "gw.toml:12:19: channel.tlv_keymgr_addr: needs keys.endpoints (the TLV carries the first endpoint's "
             "address)"},
        Case{"origin_gateway_without_endpoints", HEAD "[keys]\nshm = \"keycast-gw1\"\n" CH1 "origin = \"gateway\"\n"
                                                 "key_length = 16\n",
             "gw.toml:12:10: channel.origin: \"gateway\" needs keys.endpoints (KEY_GENERATE goes to the key manager "
             "over TCP; keys.shm only reads keys)"},
        // Across channels.
        Case{"duplicate_id", LAB CH1 CH(1, "239.1.1.2:5000"),
             "gw.toml:15:6: channel.id: duplicate channel id 1 (first at line 10)"},
        Case{"duplicate_input", LAB CH1 CH(2, "239.1.1.1:5000"),
             "gw.toml:16:9: channel.input: 239.1.1.1:5000 is already the input of channel 1 (line 11)"},
        Case{"duplicate_input_v6", LAB "[[channel]]\nid = 1\ninput = \"[ff3e::1]:5000\"\n"
                                   "output = \"[ff3e::2]:5000\"\nsuite = \"xor\"\n"
                                   "[[channel]]\nid = 2\ninput = \"[FF3E:0::1]:5000\"\n"
                                   "output = \"[ff3e::3]:5000\"\nsuite = \"xor\"\n",
             "gw.toml:16:9: channel.input: [ff3e::1]:5000 is already the input of channel 1 (line 11)"}),
    [](const ::testing::TestParamInfo<Case>& i) { return std::string(i.param.name); });

}  // namespace
