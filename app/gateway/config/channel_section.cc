// [[channel]]: groups, TTL, suite, payload handling, and the per-mode knobs
// (notices and TLVs when scrambling, hold queue and fetch point when
// descrambling).
#include <charconv>
#include <optional>
#include <set>
#include <string>

#include "address.h"
#include "sections.h"

namespace gateway::detail {

namespace {

constexpr std::int64_t kMaxPid = 0x1FFF;

std::string number(double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string family(const pktparse::IpAddr& a) { return a.family == 4 ? "IPv4" : "IPv6"; }

Group read_group(const tomlcheck::Table& t, std::string_view key, const std::optional<std::string>& text) {
  if (!text) t.fail_missing(key);
  std::string why;
  const auto ap = parse_ip_port(*text, 1, &why);
  if (!ap) t.fail(key, why);
  if (!is_multicast(ap->addr))
    t.fail(key, to_string(ap->addr) + " is not a multicast group (IPv4 224.0.0.0/4, IPv6 ff00::/8)");
  return Group{ap->addr, ap->port, std::nullopt};
}

pktparse::IpAddr read_source(const tomlcheck::Table& t, const std::string& text, const pktparse::IpAddr& group) {
  const auto a = parse_ip(text);
  if (!a) t.fail("input_source", "'" + text + "' is not an IPv4 or IPv6 address");
  if (is_multicast(*a) || is_unspecified(*a)) t.fail("input_source", text + " is not a unicast address");
  if (a->family != group.family)
    t.fail("input_source", "is " + family(*a) + " but the input group is " + family(group));
  return *a;
}

std::string suite_names() {
  std::string out;
  for (std::uint8_t id = 1; pktparse::suite_valid(id); ++id) {
    if (!out.empty()) out += ", ";
    out += pktparse::suite_name(static_cast<pktparse::Suite>(id));
  }
  return out;
}

PayloadKind read_payload(const tomlcheck::Table& t, const std::optional<std::string>& name) {
  if (!name) return PayloadKind::raw;
  for (PayloadKind p : {PayloadKind::raw, PayloadKind::ts, PayloadKind::rtp, PayloadKind::rtp_ts})
    if (*name == to_string(p)) return p;
  t.fail("payload", "must be one of raw, ts, rtp, rtp_ts, got \"" + *name + '"');
}

std::vector<std::uint16_t> read_clear_pids(const tomlcheck::Table& t, const std::vector<std::int64_t>& pids,
                                           PayloadKind payload) {
  if (payload != PayloadKind::ts && payload != PayloadKind::rtp_ts)
    t.fail("clear_pids", "only allowed with payload \"ts\" or \"rtp_ts\", payload is \"" +
                             std::string(to_string(payload)) + '"');
  std::vector<std::uint16_t> out;
  std::set<std::int64_t> seen;
  for (std::size_t i = 0; i < pids.size(); ++i) {
    if (!seen.insert(pids[i]).second) t.fail("clear_pids", i, "PID " + std::to_string(pids[i]) + " is listed twice");
    out.push_back(static_cast<std::uint16_t>(pids[i]));
  }
  return out;
}

}  // namespace

ChannelConfig read_channel(tomlcheck::Table& t, const GatewayConfig& cfg) {
  ChannelConfig c;
  const auto id = t.optional_int("id", 1, kU32Max);
  const auto input = t.optional_string("input");
  const auto input_source = t.optional_string("input_source");
  const auto output = t.optional_string("output");
  c.ttl = static_cast<std::uint8_t>(t.optional_int("ttl", 1, 255).value_or(c.ttl));
  c.udp_checksum = t.optional_bool("udp_checksum").value_or(c.udp_checksum);
  const auto suite = t.optional_string("suite");
  const auto payload = t.optional_string("payload");
  const auto clear_pids = t.optional_int_array("clear_pids", 0, kMaxPid);
  c.notice_interval_ms = u32(t, "notice_interval_ms", 1, kU32Max, c.notice_interval_ms);
  c.tlv_key_remaining = t.optional_bool("tlv_key_remaining").value_or(c.tlv_key_remaining);
  c.tlv_keymgr_addr = t.optional_bool("tlv_keymgr_addr").value_or(c.tlv_keymgr_addr);
  c.hold_datagrams = u32(t, "hold_datagrams", 1, kU32Max, c.hold_datagrams);
  c.hold_ms = u32(t, "hold_ms", 1, kU32Max, c.hold_ms);
  c.fetch_at = t.optional_float("fetch_at").value_or(c.fetch_at);
  const auto origin = t.optional_string("origin");
  c.key_length = static_cast<std::uint16_t>(t.optional_int("key_length", 1, 1024).value_or(0));
  c.lifetime_ms = u32(t, "lifetime_ms", 1, kU32Max, c.lifetime_ms);
  c.next_key_at = t.optional_float("next_key_at").value_or(c.next_key_at);
  t.check_unknown_keys();

  if (!id) t.fail_missing("id");
  c.id = static_cast<std::uint32_t>(*id);

  c.input = read_group(t, "input", input);
  if (input_source) c.input.source = read_source(t, *input_source, c.input.addr);
  c.output = read_group(t, "output", output);
  if (c.output.addr.family != c.input.addr.family)
    t.fail("output", "is " + family(c.output.addr) + " but channel.input is " + family(c.input.addr) +
                         "; a channel's input and output must be the same IP family");

  if (!suite) t.fail_missing("suite");
  const auto s = pktparse::suite_from_name(*suite);
  if (!s) t.fail("suite", "unknown suite \"" + *suite + "\", expected one of " + suite_names());
  c.suite = *s;

  if (origin && *origin == "gateway") {
    c.origin = KeyOrigin::gateway;
  } else if (origin && *origin != "keymgr") {
    t.fail("origin", "must be \"keymgr\" or \"gateway\", got \"" + *origin + '"');
  }
  for (std::string_view key : {"key_length", "lifetime_ms", "next_key_at"})
    only_when(t, key, c.origin == KeyOrigin::gateway, "origin = \"gateway\"");
  if (c.origin == KeyOrigin::gateway) {
    if (cfg.mode != Mode::scramble) t.fail("origin", "\"gateway\" only when mode = \"scramble\" (the scrambler makes the keys)");
    if (cfg.keys.endpoints.empty())
      t.fail("origin", "\"gateway\" needs keys.endpoints (KEY_GENERATE goes to the key manager over TCP; keys.shm only "
                       "reads keys)");
    if (c.key_length == 0 && pktparse::suite_is_xor(c.suite)) t.fail_missing("key_length", "for an xor suite with origin = \"gateway\"");
    if (c.key_length != 0 && !pktparse::key_length_ok(c.suite, c.key_length))
      t.fail("key_length", std::to_string(c.key_length) + " bytes is not allowed for " + std::string(pktparse::suite_name(c.suite)));
    if (!(c.next_key_at > 0.0 && c.next_key_at < 1.0))
      t.fail("next_key_at", "must be between 0 and 1 (exclusive), got " + number(c.next_key_at));
  }

  c.payload = read_payload(t, payload);
  if (clear_pids) c.clear_pids = read_clear_pids(t, *clear_pids, c.payload);

  const bool scramble = cfg.mode == Mode::scramble;
  for (std::string_view key : {"notice_interval_ms", "tlv_key_remaining", "tlv_keymgr_addr"})
    only_when(t, key, scramble, "mode = \"scramble\"");
  for (std::string_view key : {"hold_datagrams", "hold_ms", "fetch_at"})
    only_when(t, key, !scramble, "mode = \"descramble\"");
  if (c.tlv_keymgr_addr && cfg.keys.endpoints.empty())
    t.fail("tlv_keymgr_addr", "needs keys.endpoints (the TLV carries the first endpoint's address)");
  if (!c.udp_checksum && c.output.addr.family == 6)
    t.fail("udp_checksum", "IPv6 has no optional UDP checksum (RFC 8200): only an IPv4 output may leave it out");
  if (!(c.fetch_at > 0.0 && c.fetch_at < 1.0))
    t.fail("fetch_at", "must be between 0 and 1 (exclusive), got " + number(c.fetch_at));
  return c;
}

}  // namespace gateway::detail
