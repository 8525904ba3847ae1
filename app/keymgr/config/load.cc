// load_keymgr_config: parses the file, reads each section, then checks what
// spans sections (unique ids, channel references, who feeds what).
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "keymgr_config.h"
#include "sections.h"
#include "tomlcheck/document.h"

namespace keymgr {

namespace {

std::string line_of(const tomlcheck::Table& t, std::string_view key) {
  return "line " + std::to_string(t.where(key).line);
}

void read_channels(KeymgrConfig& cfg, std::vector<tomlcheck::Table>& tables) {
  std::map<std::uint32_t, std::size_t> seen;
  for (std::size_t i = 0; i < tables.size(); ++i) {
    cfg.channels.push_back(detail::read_channel(tables[i]));
    const auto [it, fresh] = seen.emplace(cfg.channels.back().id, i);
    if (!fresh)
      tables[i].fail("id", "duplicate channel id " + std::to_string(it->first) + " (first at " +
                               line_of(tables[it->second], "id") + ')');
  }
}

void check_references(const KeymgrConfig& cfg, const tomlcheck::Table& t, std::string_view key,
                      const std::vector<std::uint32_t>& ids) {
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (!cfg.find_channel(ids[i])) t.fail(key, i, "unknown channel " + std::to_string(ids[i]));
}

void read_peers(KeymgrConfig& cfg, std::vector<tomlcheck::Table>& tables) {
  std::map<std::string, std::size_t> ids;
  std::map<std::string, std::size_t> shms;
  for (std::size_t i = 0; i < tables.size(); ++i) {
    cfg.peers.push_back(detail::read_peer(tables[i], cfg.server.lab));
    const PeerConfig& p = cfg.peers.back();
    if (const auto [it, fresh] = ids.emplace(p.id, i); !fresh)
      tables[i].fail("id", "duplicate peer id '" + p.id + "' (first at " + line_of(tables[it->second], "id") + ')');
    if (!p.shm.empty())
      if (const auto [it, fresh] = shms.emplace(p.shm, i); !fresh)
        tables[i].fail("shm", "shared-memory name \"" + p.shm + "\" is already used by peer '" +
                                  cfg.peers[it->second].id + "'");
    check_references(cfg, tables[i], "channels", p.channels);
    check_references(cfg, tables[i], "feeds", p.feeds);
  }
}

void check_gateway_origins(const KeymgrConfig& cfg, const std::vector<tomlcheck::Table>& tables) {
  for (std::size_t i = 0; i < cfg.channels.size(); ++i) {
    const ChannelConfig& c = cfg.channels[i];
    if (c.origin != KeyOrigin::gateway) continue;
    bool fed = false;
    for (const PeerConfig& p : cfg.peers)
      for (std::uint32_t f : p.feeds) fed = fed || f == c.id;
    if (!fed)
      tables[i].fail("origin", "channel " + std::to_string(c.id) +
                                   " has origin \"gateway\" but no gateway peer lists it in feeds");
  }
}

KeymgrConfig load(const tomlcheck::Document& doc, const std::filesystem::path& base_dir) {
  tomlcheck::Table root = doc.root();
  auto server = root.optional_table("server");
  auto tls = root.optional_table("tls");
  auto peers = root.optional_table_array("peer");
  auto channels = root.optional_table_array("channel");
  root.check_unknown_keys();

  KeymgrConfig cfg;
  if (!server) (void)root.required_table("server");  // throws "missing table [server]"
  cfg.server = detail::read_server(*server);
  if (tls) {
    cfg.tls = detail::read_tls(*tls, base_dir, cfg.server.role);
  } else if (!cfg.server.lab) {
    throw tomlcheck::error_at(server->where("lab"), "missing table [tls] (required unless server.lab = true)");
  }
  if (channels.empty()) (void)root.required_table_array("channel");  // throws "at least one [[channel]] ..."
  read_channels(cfg, channels);
  read_peers(cfg, peers);
  check_gateway_origins(cfg, channels);
  return cfg;
}

}  // namespace

KeymgrConfig load_keymgr_config(const std::filesystem::path& path) {
  return load(tomlcheck::Document::from_file(path), path.parent_path());
}

KeymgrConfig load_keymgr_config_string(std::string_view text, std::string name,
                                       const std::filesystem::path& base_dir) {
  return load(tomlcheck::Document::from_string(text, std::move(name)), base_dir);
}

}  // namespace keymgr
