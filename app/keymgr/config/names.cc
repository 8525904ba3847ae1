// Small helpers of KeymgrConfig: look-ups, the KEK path, enum names.
#include "keymgr_config.h"

namespace keymgr {

const PeerConfig* KeymgrConfig::find_peer(std::string_view id) const noexcept {
  for (const auto& p : peers)
    if (p.id == id) return &p;
  return nullptr;
}

const ChannelConfig* KeymgrConfig::find_channel(std::uint32_t id) const noexcept {
  for (const auto& c : channels)
    if (c.id == id) return &c;
  return nullptr;
}

std::filesystem::path kek_path(const ServerConfig& server, const std::filesystem::path& state_dir) {
  return server.kek_file.is_absolute() ? server.kek_file : state_dir / server.kek_file;
}

std::string_view to_string(ServerRole r) noexcept { return r == ServerRole::replica ? "replica" : "master"; }

std::string_view to_string(PeerRole r) noexcept {
  switch (r) {
    case PeerRole::gateway: return "gateway";
    case PeerRole::receiver: return "receiver";
    case PeerRole::replica: return "replica";
    case PeerRole::admin: return "admin";
  }
  return "unknown";
}

std::string_view to_string(KeyOrigin o) noexcept { return o == KeyOrigin::gateway ? "gateway" : "keymgr"; }

}  // namespace keymgr
