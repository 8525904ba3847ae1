// Key manager configs for tests: the lab peers and channels of
// config/keymgr-lab.toml on port 0, with settings a test may override.
#pragma once

#include <cstdint>
#include <string>

namespace keymgr::test {

struct ConfigOptions {
  std::uint32_t lifetime_ms = 10000;     // every channel's crypto-period
  std::string server_extra;              // more lines for [server]
  bool lab = true;
  std::string tls_section;               // the [tls] table when lab is false
};

inline std::string lab_config(const ConfigOptions& o = {}) {
  const std::string life = std::to_string(o.lifetime_ms);
  std::string s = "[server]\nlisten = \"127.0.0.1:0\"\nkek_file = \"kek\"\n";
  s += o.lab ? "lab = true\n" : "lab = false\n";
  s += o.server_extra;
  s += o.tls_section;
  auto peer = [&](const char* id, const char* role, const char* channels, const char* feeds) {
    s += std::string("\n[[peer]]\nid = \"") + id + "\"\nrole = \"" + role + "\"\n";
    if (o.lab) s += std::string("token = \"") + id + "-lab-token\"\n";
    s += std::string("channels = ") + channels + "\n";
    if (feeds) s += std::string("feeds = ") + feeds + "\n";
  };
  peer("gw1", "gateway", "[1, 2, 3, 4]", "[1, 2, 3, 4]");
  peer("rx1", "receiver", "[1, 2]", nullptr);
  peer("rx2", "receiver", "[3]", nullptr);
  auto channel = [&](int id, const char* suite, const char* extra) {
    s += "\n[[channel]]\nid = " + std::to_string(id) + "\nsuite = \"" + suite + "\"\nlifetime_ms = " + life + "\n" + extra;
  };
  channel(1, "aes128-ctr", "");
  channel(2, "xor", "key_length = 16\n");
  channel(3, "aes128-gcm", "");
  channel(4, "xor-inv", "key_length = 64\norigin = \"gateway\"\n");
  return s;
}

// A config listening on a fixed port: for a server that must come back on it.
inline std::string with_port(std::string config, std::uint16_t port) {
  const std::string from = "listen = \"127.0.0.1:0\"";
  config.replace(config.find(from), from.size(), "listen = \"127.0.0.1:" + std::to_string(port) + "\"");
  return config;
}

// The [[peer]] by which a master knows its replica1, entitled to channels
// (a TOML array).
inline std::string replica_peer(const std::string& channels = "[1, 2, 3, 4]") {
  return "\n[[peer]]\nid = \"replica1\"\nrole = \"replica\"\ntoken = \"replica1-lab-token\"\nchannels = " + channels +
         "\n";
}

// The [server] lines that make a config replica1 of the master on master_port.
inline std::string replica_of(std::uint16_t master_port) {
  return "role = \"replica\"\nmaster = \"127.0.0.1:" + std::to_string(master_port) +
         "\"\nreplica_peer_id = \"replica1\"\nreplica_token = \"replica1-lab-token\"\n";
}

// A master (config/keymgr-lab.toml style) that knows the replica1 peer.
inline std::string master_config(std::uint16_t port, const ConfigOptions& o) {
  return with_port(lab_config(o), port) + replica_peer();
}

// Its replica (config/keymgr-replica-lab.toml style), on port 0.
inline std::string replica_config(std::uint16_t master_port, ConfigOptions o) {
  o.server_extra += replica_of(master_port);
  return lab_config(o);
}

}  // namespace keymgr::test
