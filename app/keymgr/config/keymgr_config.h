// The key manager's configuration (config/keymgr-lab.toml shows every key)
// and its loader. Loading validates everything and throws
// tomlcheck::ConfigError "FILE:LINE:COL: what is wrong" at the first fault.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "host_port.h"
#include "pktparse/suite.h"
#include "tomlcheck/error.h"

namespace keymgr {

enum class ServerRole : std::uint8_t { master, replica };
// Values as the protocol's role parameter.
enum class PeerRole : std::uint8_t { gateway = 1, receiver = 2, replica = 3, admin = 4 };
enum class KeyOrigin : std::uint8_t { keymgr, gateway };

struct ServerConfig {
  HostPort listen;                      // port 0: any free port
  ServerRole role = ServerRole::master;
  std::optional<HostPort> master;       // replica only
  std::string replica_peer_id;          // replica only
  std::string replica_token;            // replica only; required in lab mode
  bool lab = false;                     // plaintext TCP and auth tokens
  std::filesystem::path kek_file;       // as written; relative to --state-dir
  std::uint32_t grace_ms = 2000;
  std::uint32_t max_connections = 20000;
  std::uint32_t idle_timeout_ms = 30000;
  std::uint32_t request_rate = 1000;    // per peer, per second
  std::uint32_t request_burst = 2000;
  std::optional<HostPort> metrics_listen;
  // Keys that ended, and hours of accounts, more than this many days ago are
  // deleted (KeyStore::prune); 0: everything is kept.
  std::uint32_t retention_days = 0;
};

// Paths resolved against the config file's directory.
struct TlsConfig {
  std::filesystem::path cert;
  std::filesystem::path key;
  std::filesystem::path ca;
  // A replica's identity toward its master (CN = server.replica_peer_id);
  // empty on a master.
  std::filesystem::path client_cert;
  std::filesystem::path client_key;
};

struct PeerConfig {
  std::string id;
  PeerRole role = PeerRole::receiver;
  std::string token;                    // empty when not given
  std::vector<std::uint32_t> channels;  // may read
  std::vector<std::uint32_t> feeds;     // gateway only: may generate / push
  std::string shm;                      // gateway only; empty when not given
};

struct ChannelConfig {
  std::uint32_t id = 0;
  pktparse::Suite suite = pktparse::Suite::aes128_ctr;
  std::uint16_t key_length = 16;
  std::uint32_t lifetime_ms = 0;
  double threshold_x = 0.5;
  double threshold_y = 0.25;
  std::uint64_t rotate_bytes = 0;       // 0: off
  std::uint64_t rotate_datagrams = 0;   // 0: off
  KeyOrigin origin = KeyOrigin::keymgr;
};

struct KeymgrConfig {
  ServerConfig server;
  std::optional<TlsConfig> tls;         // always present unless server.lab
  std::vector<PeerConfig> peers;
  std::vector<ChannelConfig> channels;  // at least one

  const PeerConfig* find_peer(std::string_view id) const noexcept;
  const ChannelConfig* find_channel(std::uint32_t id) const noexcept;
};

// Loads and validates a config file; messages name it as `path` is written.
KeymgrConfig load_keymgr_config(const std::filesystem::path& path);
// The same for text; relative TLS paths are resolved against `base_dir`
// (left relative when it is empty).
KeymgrConfig load_keymgr_config_string(std::string_view text, std::string name,
                                       const std::filesystem::path& base_dir = {});

// The KEK path: kek_file, relative to the state directory unless absolute.
std::filesystem::path kek_path(const ServerConfig& server, const std::filesystem::path& state_dir);

// Config names: "master", "gateway", "keymgr", ...
std::string_view to_string(ServerRole r) noexcept;
std::string_view to_string(PeerRole r) noexcept;
std::string_view to_string(KeyOrigin o) noexcept;

}  // namespace keymgr
