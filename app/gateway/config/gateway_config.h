// The gateway's configuration (config/gateway-scramble-lab.toml shows every
// key) and its loader. Loading validates everything and throws
// tomlcheck::ConfigError "FILE:LINE:COL: what is wrong" at the first fault.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pktparse/net.h"
#include "pktparse/suite.h"
#include "tomlcheck/error.h"

namespace gateway {

enum class Mode : std::uint8_t { scramble, descramble };
enum class Failover : std::uint8_t { in_order, round_robin };
enum class PayloadKind : std::uint8_t { raw, ts, rtp, rtp_ts };
// Who makes the channel's keys (as the key manager's channel `origin`): the
// key manager by itself, or this gateway with KEY_GENERATE at threshold X.
enum class KeyOrigin : std::uint8_t { keymgr, gateway };

struct Endpoint {
  std::string host;  // IP literal (the key manager client does not resolve names within deadlines)
  std::uint16_t port = 0;
};

// Where keys come from: key managers over TCP (TLS, or lab token), or the
// shared memory a key manager on this host publishes for this gateway.
struct KeySource {
  std::vector<Endpoint> endpoints;      // failover order
  Failover failover = Failover::in_order;
  std::string peer_id = "gw1";
  std::string token;                    // lab only; empty with TLS
  std::optional<std::filesystem::path> tls_cert, tls_key, tls_ca;  // all three or none
  std::string shm;                      // "keycast-gw1": read keys from shared memory instead
  std::uint32_t connect_timeout_ms = 1000;
  std::uint32_t request_timeout_ms = 1000;
  std::uint32_t startup_timeout_ms = 10000;  // every channel must have keys by then, else exit with why
};

struct Group {
  pktparse::IpAddr addr;               // multicast group (IPv4 or IPv6)
  std::uint16_t port = 0;              // UDP destination port
  std::optional<pktparse::IpAddr> source;  // SSM source; input only
};

struct ChannelConfig {
  std::uint32_t id = 0;                // key manager channel id, non-zero, unique
  Group input;                         // clear (scramble) or scrambled (descramble) side
  Group output;                        // the other side
  std::uint8_t ttl = 16;               // output IPv4 TTL / IPv6 hop limit
  bool udp_checksum = true;            // false: IPv4 output datagrams carry UDP checksum 0 ("none", RFC 768)
  pktparse::Suite suite = pktparse::Suite::aes128_ctr;  // must match the key manager's channel
  PayloadKind payload = PayloadKind::raw;
  KeyOrigin origin = KeyOrigin::keymgr;  // TOML: origin = "keymgr" | "gateway"
  std::uint16_t key_length = 0;        // gateway origin: bytes of key material to ask for (0: the suite's AES size)
  std::uint32_t lifetime_ms = 10000;   // gateway origin: crypto-period to ask for
  double next_key_at = 0.5;            // gateway origin: X, fraction of the lifetime left when the next key is made
  std::vector<std::uint16_t> clear_pids;  // TS PIDs left clear besides 0x0000-0x001F and 0x1FFF
  std::uint32_t notice_interval_ms = 100;
  bool tlv_key_remaining = true;       // KEY_REMAINING_MS in every DATA datagram
  bool tlv_keymgr_addr = false;        // KEYMGR_ADDR4/6 of the first endpoint in every DATA datagram
  std::uint32_t hold_datagrams = 64;   // descramble: per-channel queue while a key is fetched
  std::uint32_t hold_ms = 50;
  double fetch_at = 0.25;              // descramble: Y, fraction of the lifetime left when the next key is fetched
};

struct PortConfig {
  std::vector<std::uint16_t> inputs = {0};  // DPDK port ids (TOML: input = N, or inputs = [N, ...])
  std::uint16_t output = 1;
  std::uint16_t rx_descriptors = 1024;
  std::uint16_t tx_descriptors = 1024;
  std::uint32_t mbufs = 8191;          // per pool
  bool udp_checksum_offload = true;    // the NICs compute (output) and check (input) UDP checksums where they can
};

struct GatewayConfig {
  Mode mode = Mode::scramble;
  PortConfig ports;
  std::vector<unsigned> worker_lcores;  // empty: every lcore but the main one
  KeySource keys;
  std::vector<ChannelConfig> channels;  // at least one
  std::string metrics_listen;          // optional host:port for Prometheus
  std::uint32_t burst = 32;
  std::uint32_t tx_drain_us = 100;
  std::uint32_t idle_sleep_us = 0;     // a worker whose RX came back empty sleeps this long; 0: busy polling
  // Scramble: the durable seq high-water mark (app/gateway/seq_lease.h), so
  // a restart never reuses (key, seq) even if the clock went back. Relative
  // paths are relative to the config file. Unset: seq starts at the clock.
  std::optional<std::filesystem::path> seq_file;
  // Scramble: where usage not yet taken by the key manager is kept
  // (app/gateway/usage_file.h), so that neither a stop while the key manager
  // is away nor a kill -9 loses it. Relative as seq_file. Needs
  // keys.endpoints. Unset: usage lives in memory only.
  std::optional<std::filesystem::path> usage_file;

  const ChannelConfig* find_channel(std::uint32_t id) const noexcept;
};

GatewayConfig load_gateway_config(const std::filesystem::path& path);
GatewayConfig load_gateway_config_string(std::string_view text, std::string name,
                                         const std::filesystem::path& base_dir = {});

std::string_view to_string(Mode m) noexcept;
std::string_view to_string(PayloadKind p) noexcept;

}  // namespace gateway
