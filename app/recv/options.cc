// Parsing keycast-recv's values: joins, outputs, endpoints, and the checks
// that need more than one option (see options.h).
#include "options.h"

#include <arpa/inet.h>
#include <net/if.h>

#include <charconv>
#include <cstring>

#include "keycast/endpoint.h"

namespace keycast_recv {

bool SockAddr::is_multicast() const {
  if (family() == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    return IN_MULTICAST(ntohl(a->sin_addr.s_addr));
  }
  const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
  return IN6_IS_ADDR_MULTICAST(&a->sin6_addr);
}

std::string SockAddr::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    ::inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
    return std::string(buf) + ":" + std::to_string(ntohs(a->sin_port));
  }
  const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
  ::inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
  std::string out = "[";
  out += buf;
  out += "]:";
  out += std::to_string(ntohs(a->sin6_port));
  return out;
}

std::optional<SockAddr> parse_ip(std::string_view text) {
  if (text.size() > 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  const std::string s(text);
  SockAddr a;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.ss);
  if (::inet_pton(AF_INET, s.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    a.len = sizeof(sockaddr_in);
    return a;
  }
  if (::inet_pton(AF_INET6, s.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    a.len = sizeof(sockaddr_in6);
    return a;
  }
  return std::nullopt;
}

std::optional<SockAddr> parse_sockaddr(std::string_view text, bool allow_zero_port) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const auto host = text.substr(0, colon);
  const auto port_text = text.substr(colon + 1);
  if (host.empty() || (host.find(':') != std::string_view::npos && host.front() != '[')) return std::nullopt;
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535 || (port == 0 && !allow_zero_port)) {
    return std::nullopt;
  }
  auto a = parse_ip(host);
  if (!a) return std::nullopt;
  const auto p = htons(static_cast<std::uint16_t>(port));
  if (a->family() == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&a->ss)->sin_port = p;
  } else {
    reinterpret_cast<sockaddr_in6*>(&a->ss)->sin6_port = p;
  }
  return a;
}

std::optional<JoinSpec> parse_join(std::string_view text) {
  JoinSpec j;
  j.text = std::string(text);
  const auto at = text.find('@');
  auto g = parse_sockaddr(text.substr(0, at));
  if (!g) return std::nullopt;
  j.group = *g;
  if (at != std::string_view::npos) {
    auto s = parse_ip(text.substr(at + 1));
    if (!s || s->family() != g->family() || !g->is_multicast()) return std::nullopt;
    j.source = *s;
  }
  return j;
}

bool same_join(const JoinSpec& a, const JoinSpec& b) {
  const auto source = [](const JoinSpec& j) { return j.source ? j.source->to_string() : std::string(); };
  return a.group.to_string() == b.group.to_string() && source(a) == source(b);
}

std::optional<OutSpec> parse_out(std::string_view text) {
  OutSpec o;
  if (text == "stdout" || text == "-") return o;
  if (text.starts_with("udp://")) {
    auto d = parse_sockaddr(text.substr(6));
    if (!d) return std::nullopt;
    o.kind = OutSpec::Kind::udp;
    o.dest = *d;
    return o;
  }
  if (text.empty() || text.find("://") != std::string_view::npos) return std::nullopt;
  o.kind = OutSpec::Kind::file;
  o.path = std::string(text);
  return o;
}

Plan make_plan(const Options& o) {
  Plan p;
  auto bad = [&](std::string why) {
    p.error = std::move(why);
    return p;
  };
  for (const auto& k : o.keymgr) {
    const auto ep = keycast::parse_endpoint(k);
    if (!ep) return bad("--keymgr " + k + ": expected HOST:PORT or [V6]:PORT");
    p.keymgr.endpoints.push_back(*ep);
  }
  p.keymgr.failover = o.failover == "round-robin" ? kmclient::ClientConfig::Failover::round_robin
                                                  : kmclient::ClientConfig::Failover::in_order;
  p.keymgr.role = kmproto::Role::receiver;
  p.keymgr.peer_id = o.peer;
  p.keymgr.auth_token = o.token;
  const int tls = !o.cert.empty() + !o.key.empty() + !o.ca.empty();
  if (tls != 0 && tls != 3) return bad("--cert, --key and --ca go together");
  if (tls == 3) p.keymgr.tls = kmclient::TlsFiles{o.cert, o.key, o.ca};
  if (tls == 0 && o.token.empty()) return bad("give --token (lab) or --cert/--key/--ca");
  for (const auto& j : o.joins) {
    const auto spec = parse_join(j);
    if (!spec) return bad("--join " + j + ": expected GROUP:PORT or GROUP:PORT@SOURCE (SSM needs a multicast group)");
    for (const JoinSpec& earlier : p.joins)
      if (same_join(earlier, *spec))
        return bad(earlier.text == j ? "--join " + j + " is given twice"
                                     : "--join " + j + " is the same group as --join " + earlier.text);
    p.joins.push_back(*spec);
  }
  if (!o.channels.empty() && o.channels.size() != o.joins.size()) {
    return bad("give one --channel per --join (in the same order), or none to learn channels from the datagrams");
  }
  for (std::size_t i = 0; i < o.channels.size(); ++i) {
    if (o.channels[i] == 0) return bad("--channel: channel ids are non-zero");
    for (std::size_t k = 0; k < i; ++k)
      if (o.channels[k] == o.channels[i])
        return bad("--channel " + std::to_string(o.channels[i]) + " is given for two joins (" + o.joins[k] + " and " +
                   o.joins[i] + "): a channel is received from one group");
  }
  p.channels = o.channels;
  if (o.outs.size() > 1 && o.outs.size() != o.joins.size()) {
    return bad("give one --out for all joins or one per --join");
  }
  std::vector<std::string> texts = o.outs.empty() ? std::vector<std::string>{"stdout"} : o.outs;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const auto out = parse_out(texts[i]);
    if (!out) return bad("--out " + texts[i] + ": expected stdout, a file name or udp://GROUP:PORT");
    for (std::size_t k = 0; k < i; ++k) {
      if (texts[k] == texts[i] && out->kind != OutSpec::Kind::udp) return bad("--out " + texts[i] + " given twice");
    }
    p.outs.push_back(*out);
  }
  for (std::size_t i = 0; i < o.joins.size(); ++i) p.out_of_join.push_back(texts.size() == 1 ? 0 : i);
  if (!o.iface.empty()) {
    p.iface_index = ::if_nametoindex(o.iface.c_str());
    if (p.iface_index == 0) return bad("--iface " + o.iface + ": no such interface");
  }
  if (o.batch == 0 || o.batch > 1024) return bad("--batch: 1..1024");
  if (!o.metrics_listen.empty() && !parse_sockaddr(o.metrics_listen, true)) {
    return bad("--metrics-listen " + o.metrics_listen + ": expected IP:PORT or [V6]:PORT (port 0: any free one)");
  }
  p.metrics_listen = o.metrics_listen;
  return p;
}

}  // namespace keycast_recv
