// [server] and [tls].
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "sections.h"

namespace keymgr::detail {

namespace {

constexpr std::int64_t kMaxRetentionDays = 36500;

std::optional<HostPort> host_port(tomlcheck::Table& t, std::string_view key) {
  const auto text = t.optional_string(key);
  if (!text) return std::nullopt;
  std::string why;
  auto hp = parse_host_port(*text, &why);
  if (!hp) t.fail(key, why);
  return hp;
}

std::uint32_t u32(tomlcheck::Table& t, std::string_view key, std::int64_t min, std::uint32_t fallback) {
  return static_cast<std::uint32_t>(t.optional_int(key, min, kU32Max).value_or(fallback));
}

}  // namespace

void check_length(const tomlcheck::Table& t, std::string_view key, const std::string& s, std::size_t min,
                  std::size_t max) {
  if (s.size() < min || s.size() > max)
    t.fail(key, "must be " + std::to_string(min) + " to " + std::to_string(max) + " bytes long, got " +
                    std::to_string(s.size()));
}

ServerConfig read_server(tomlcheck::Table& t) {
  ServerConfig s;
  const auto listen = host_port(t, "listen");
  const auto role = t.optional_string("role");
  s.master = host_port(t, "master");
  const auto replica_peer_id = t.optional_string("replica_peer_id");
  const auto replica_token = t.optional_string("replica_token");
  s.lab = t.optional_bool("lab").value_or(false);
  const auto kek_file = t.optional_string("kek_file");
  s.grace_ms = u32(t, "grace_ms", 0, s.grace_ms);
  s.max_connections = u32(t, "max_connections", 1, s.max_connections);
  s.idle_timeout_ms = u32(t, "idle_timeout_ms", 1, s.idle_timeout_ms);
  s.request_rate = u32(t, "request_rate", 1, s.request_rate);
  s.request_burst = u32(t, "request_burst", 1, s.request_burst);
  s.metrics_listen = host_port(t, "metrics_listen");
  s.retention_days = static_cast<std::uint32_t>(t.optional_int("retention_days", 0, kMaxRetentionDays).value_or(0));
  t.check_unknown_keys();

  if (!listen) t.fail_missing("listen");
  s.listen = *listen;
  if (role && *role == "replica") {
    s.role = ServerRole::replica;
  } else if (role && *role != "master") {
    t.fail("role", "must be \"master\" or \"replica\", got \"" + *role + '"');
  }

  if (s.role == ServerRole::master) {
    for (const char* key : {"master", "replica_peer_id", "replica_token"})
      if (t.contains(key)) t.fail(key, "only allowed when role = \"replica\"");
  } else {
    if (!s.master) t.fail_missing("master", "required when role = \"replica\"");
    if (s.master->port == 0) t.fail("master", "the master's port must not be 0");
    if (!replica_peer_id) t.fail_missing("replica_peer_id", "required when role = \"replica\"");
    s.replica_peer_id = *replica_peer_id;
    check_length(t, "replica_peer_id", s.replica_peer_id, 1, 64);
    if (replica_token) {
      s.replica_token = *replica_token;
      check_length(t, "replica_token", s.replica_token, 1, 256);
    } else if (s.lab) {
      t.fail_missing("replica_token", "required for a replica when lab = true");
    }
  }

  if (!kek_file) t.fail_missing("kek_file");
  if (kek_file->empty()) t.fail("kek_file", "must not be empty");
  s.kek_file = *kek_file;
  if (s.metrics_listen && s.metrics_listen->port != 0 && *s.metrics_listen == s.listen)
    t.fail("metrics_listen", "must differ from server.listen");
  return s;
}

TlsConfig read_tls(tomlcheck::Table& t, const std::filesystem::path& base_dir, ServerRole role) {
  const auto cert = t.optional_string("cert");
  const auto key = t.optional_string("key");
  const auto ca = t.optional_string("ca");
  const auto client_cert = t.optional_string("client_cert");
  const auto client_key = t.optional_string("client_key");
  t.check_unknown_keys();
  auto path = [&](std::string_view name, const std::optional<std::string>& v,
                  std::string_view why = {}) -> std::filesystem::path {
    if (!v) t.fail_missing(name, why);
    if (v->empty()) t.fail(name, "must not be empty");
    const std::filesystem::path p(*v);
    return p.is_absolute() || base_dir.empty() ? p : base_dir / p;
  };
  TlsConfig c{path("cert", cert), path("key", key), path("ca", ca), {}, {}};
  if (role == ServerRole::master) {
    for (const char* name : {"client_cert", "client_key"})
      if (t.contains(name)) t.fail(name, "only allowed when server.role = \"replica\"");
    return c;
  }
  const char* why = "required for a replica: its certificate toward the master (CN = server.replica_peer_id)";
  c.client_cert = path("client_cert", client_cert, why);
  c.client_key = path("client_key", client_key, why);
  return c;
}

}  // namespace keymgr::detail
