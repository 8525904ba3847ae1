// [keys]: key manager endpoints or a shared-memory name, the gateway's
// identity and credentials (lab token or TLS files), and time limits.
#include <optional>
#include <string>
#include <vector>

#include "address.h"
#include "keyshm/keyshm.h"
#include "sections.h"

namespace gateway::detail {

namespace {


std::vector<Endpoint> read_endpoints(const tomlcheck::Table& t, const std::vector<tomlcheck::Table::PlacedString>& items) {
  const std::string path = t.path("endpoints");
  if (items.empty()) t.fail("endpoints", "must list at least one key manager");
  std::vector<Endpoint> out;
  std::vector<IpPort> seen;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto& item = items[i];
    auto fail = [&](const std::string& what) {
      return tomlcheck::error_at(item.where, path + '[' + std::to_string(i) + "]: " + what);
    };
    std::string why;
    const auto ap = parse_ip_port(item.text, 1, &why);
    if (!ap) throw fail(why);
    for (const IpPort& s : seen)
      if (same_address(s.addr, ap->addr) && s.port == ap->port) throw fail(to_string(*ap) + " is listed twice");
    seen.push_back(*ap);
    out.push_back(Endpoint{to_string(ap->addr), ap->port});
  }
  return out;
}

void check_shm_name(const tomlcheck::Table& t, const std::string& name) {
  if (!keyshm::valid_name(name))
    t.fail("shm", "must be \"keycast-\" followed by [A-Za-z0-9._-], at most 255 bytes in all, got \"" + name +
                      '"');
}

Failover read_failover(const tomlcheck::Table& t, const std::optional<std::string>& name) {
  if (!name || *name == "in_order") return Failover::in_order;
  if (*name == "round_robin") return Failover::round_robin;
  t.fail("failover", "must be \"in_order\" or \"round_robin\", got \"" + *name + '"');
}

// Lab token XOR all three TLS files.
void read_credentials(const tomlcheck::Table& t, KeySource& k, const std::optional<std::string>& token,
                      const std::optional<std::string> (&tls)[3], const std::filesystem::path& base_dir) {
  static constexpr std::string_view kTlsKeys[3] = {"tls_cert", "tls_key", "tls_ca"};
  const bool any_tls = tls[0] || tls[1] || tls[2];
  if (token && any_tls)
    t.fail("token", "a lab token and TLS files (tls_cert, tls_key, tls_ca) exclude each other");
  if (!token && !any_tls) t.fail_missing("token", "or tls_cert, tls_key and tls_ca for TLS");
  if (token) {
    check_length(t, "token", *token, 1, 256);
    k.token = *token;
    return;
  }
  std::optional<std::filesystem::path>* out[3] = {&k.tls_cert, &k.tls_key, &k.tls_ca};
  for (std::size_t i = 0; i < 3; ++i) {
    if (!tls[i]) t.fail_missing(kTlsKeys[i], "tls_cert, tls_key and tls_ca go together");
    if (tls[i]->empty()) t.fail(kTlsKeys[i], "must not be empty");
    const std::filesystem::path p(*tls[i]);
    *out[i] = p.is_absolute() || base_dir.empty() ? p : base_dir / p;
  }
}

}  // namespace

KeySource read_keys(tomlcheck::Table& t, const std::filesystem::path& base_dir) {
  KeySource k;
  const auto endpoints = t.optional_string_array("endpoints");
  const auto failover = t.optional_string("failover");
  const auto peer_id = t.optional_string("peer_id");
  const auto token = t.optional_string("token");
  const std::optional<std::string> tls[3] = {t.optional_string("tls_cert"), t.optional_string("tls_key"),
                                             t.optional_string("tls_ca")};
  const auto shm = t.optional_string("shm");
  k.connect_timeout_ms = u32(t, "connect_timeout_ms", 1, kU32Max, k.connect_timeout_ms);
  k.request_timeout_ms = u32(t, "request_timeout_ms", 1, kU32Max, k.request_timeout_ms);
  k.startup_timeout_ms = u32(t, "startup_timeout_ms", 1, kU32Max, k.startup_timeout_ms);
  t.check_unknown_keys();

  if (shm) {
    check_shm_name(t, *shm);
    k.shm = *shm;
  }
  if (!endpoints) {
    if (!shm) t.fail_missing("endpoints", "required unless shm is set");
    for (std::string_view key : {"failover", "peer_id", "token", "tls_cert", "tls_key", "tls_ca",
                                 "connect_timeout_ms", "request_timeout_ms"})
      only_when(t, key, false, "keys.endpoints is set");
    return k;
  }
  k.endpoints = read_endpoints(t, *endpoints);
  k.failover = read_failover(t, failover);
  if (!peer_id) t.fail_missing("peer_id", "required with endpoints");
  check_length(t, "peer_id", *peer_id, 1, 64);
  k.peer_id = *peer_id;
  read_credentials(t, k, token, tls, base_dir);
  return k;
}

}  // namespace gateway::detail
