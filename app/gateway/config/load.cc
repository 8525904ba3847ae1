// load_gateway_config: parses the file, reads the top level and each section,
// then checks what spans channels (unique ids, one channel per input).
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "address.h"
#include "gateway_config.h"
#include "tomlcheck/document.h"
#include "sections.h"

namespace gateway {

namespace {

using detail::kU32Max;

std::string line_of(const tomlcheck::Table& t, std::string_view key) {
  return "line " + std::to_string(t.where(key).line);
}

Mode read_mode(const tomlcheck::Table& root, const std::optional<std::string>& name) {
  if (!name) root.fail_missing("mode");
  if (*name == "scramble") return Mode::scramble;
  if (*name == "descramble") return Mode::descramble;
  root.fail("mode", "must be \"scramble\" or \"descramble\", got \"" + *name + '"');
}

std::vector<unsigned> read_lcores(const tomlcheck::Table& root, const std::vector<std::int64_t>& ids) {
  if (ids.empty())
    root.fail("worker_lcores", "must list at least one lcore (leave it out for every lcore but the main one)");
  std::vector<unsigned> out;
  std::set<std::int64_t> seen;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (!seen.insert(ids[i]).second)
      root.fail("worker_lcores", i, "lcore " + std::to_string(ids[i]) + " is listed twice");
    out.push_back(static_cast<unsigned>(ids[i]));
  }
  return out;
}

// seq_file and usage_file: scramble only (why_scramble says why), a file
// name, relative to the config file's directory.
std::filesystem::path read_state_file(const tomlcheck::Table& root, const char* key, Mode mode,
                                      const char* why_scramble, const std::string& text,
                                      const std::filesystem::path& base_dir) {
  if (mode != Mode::scramble) root.fail(key, std::string("only allowed when mode = \"scramble\" (") + why_scramble + ")");
  if (text.empty()) root.fail(key, "must not be empty");
  const std::filesystem::path p = text;
  if (p.filename().empty()) root.fail(key, "must name a file, got the directory \"" + text + '"');
  return p.is_absolute() || base_dir.empty() ? p : base_dir / p;
}

std::string read_listen(const tomlcheck::Table& root, const std::string& text) {
  std::string why;
  const auto ap = parse_ip_port(text, 0, &why);
  if (!ap) root.fail("metrics_listen", why);
  return to_string(*ap);
}

void read_channels(GatewayConfig& cfg, std::vector<tomlcheck::Table>& tables) {
  std::map<std::uint32_t, std::size_t> ids;
  for (std::size_t i = 0; i < tables.size(); ++i) {
    cfg.channels.push_back(detail::read_channel(tables[i], cfg));
    const ChannelConfig& c = cfg.channels.back();
    if (const auto [it, fresh] = ids.emplace(c.id, i); !fresh)
      tables[i].fail("id", "duplicate channel id " + std::to_string(c.id) + " (first at " +
                               line_of(tables[it->second], "id") + ')');
    for (std::size_t j = 0; j < i; ++j) {
      const Group& other = cfg.channels[j].input;
      if (same_address(other.addr, c.input.addr) && other.port == c.input.port)
        tables[i].fail("input", to_string(IpPort{c.input.addr, c.input.port}) + " is already the input of channel " +
                                    std::to_string(cfg.channels[j].id) + " (" + line_of(tables[j], "input") + ')');
    }
  }
}

GatewayConfig load(const tomlcheck::Document& doc, const std::filesystem::path& base_dir) {
  tomlcheck::Table root = doc.root();
  GatewayConfig cfg;
  const auto mode = root.optional_string("mode");
  const auto lcores = root.optional_int_array("worker_lcores", 0, kU32Max);
  cfg.burst = detail::u32(root, "burst", 1, 512, cfg.burst);
  cfg.tx_drain_us = detail::u32(root, "tx_drain_us", 1, 1000000, cfg.tx_drain_us);
  cfg.idle_sleep_us = detail::u32(root, "idle_sleep_us", 0, 100000, cfg.idle_sleep_us);
  const auto metrics_listen = root.optional_string("metrics_listen");
  const auto seq_file = root.optional_string("seq_file");
  const auto usage_file = root.optional_string("usage_file");
  auto ports = root.optional_table("ports");
  auto keys = root.optional_table("keys");
  auto channels = root.optional_table_array("channel");
  root.check_unknown_keys();

  cfg.mode = read_mode(root, mode);
  if (lcores) cfg.worker_lcores = read_lcores(root, *lcores);
  if (metrics_listen) cfg.metrics_listen = read_listen(root, *metrics_listen);
  if (seq_file)
    cfg.seq_file = read_state_file(root, "seq_file", cfg.mode, "only a scrambler numbers datagrams", *seq_file, base_dir);
  if (usage_file)
    cfg.usage_file =
        read_state_file(root, "usage_file", cfg.mode, "only a scrambler reports usage", *usage_file, base_dir);

  if (!ports) (void)root.required_table("ports");  // throws "missing table [ports]"
  cfg.ports = detail::read_ports(*ports);
  if (!keys) (void)root.required_table("keys");
  cfg.keys = detail::read_keys(*keys, base_dir);
  if (channels.empty()) (void)root.required_table_array("channel");  // throws "at least one [[channel]] ..."
  read_channels(cfg, channels);
  if (cfg.usage_file && cfg.keys.endpoints.empty())
    root.fail("usage_file", "needs keys.endpoints: usage reports go to the key manager over TCP");
  return cfg;
}

}  // namespace

GatewayConfig load_gateway_config(const std::filesystem::path& path) {
  return load(tomlcheck::Document::from_file(path), path.parent_path());
}

GatewayConfig load_gateway_config_string(std::string_view text, std::string name,
                                         const std::filesystem::path& base_dir) {
  return load(tomlcheck::Document::from_string(text, std::move(name)), base_dir);
}

}  // namespace gateway
