// Parsing and printing of IP literals with inet_pton/inet_ntop.
#include "address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace gateway {

namespace {

std::optional<IpPort> fail(std::string* why, std::string text) {
  if (why) *why = std::move(text);
  return std::nullopt;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::optional<pktparse::IpAddr> parse_family(int af, const std::string& text) {
  pktparse::IpAddr a;
  if (inet_pton(af, text.c_str(), a.bytes) != 1) return std::nullopt;
  a.family = af == AF_INET ? 4 : 6;
  return a;
}

}  // namespace

std::optional<pktparse::IpAddr> parse_ip(std::string_view text) {
  const std::string s(text);
  if (auto a = parse_family(AF_INET, s)) return a;
  return parse_family(AF_INET6, s);
}

std::optional<IpPort> parse_ip_port(std::string_view text, std::uint16_t min_port, std::string* why) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos)
    return fail(why, "expected address:port (IPv6 as [addr]:port), got \"" + std::string(text) + '"');
  const std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  IpPort out;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    const std::string v6(host.substr(1, host.size() - 2));
    const auto a = parse_family(AF_INET6, v6);
    if (!a) return fail(why, "'" + v6 + "' is not an IPv6 address");
    out.addr = *a;
  } else {
    const std::string v4(host);
    if (v4.empty()) return fail(why, "expected address:port, the address is empty");
    if (v4.find(':') != std::string::npos)
      return fail(why, "IPv6 addresses must be bracketed: [" + v4 + "]:" + std::string(port_text));
    const auto a = parse_family(AF_INET, v4);
    if (!a) return fail(why, "'" + v4 + "' is not an IPv4 address (names are not allowed)");
    out.addr = *a;
  }
  unsigned long port = 0;
  const char* end = port_text.data() + port_text.size();
  const auto [p, ec] = std::from_chars(port_text.data(), end, port);
  if (port_text.empty() || !std::all_of(port_text.begin(), port_text.end(), is_digit) || p != end)
    return fail(why, "port '" + std::string(port_text) + "' is not a number");
  if (ec != std::errc() || port < min_port || port > 65535)
    return fail(why, "port " + std::string(port_text) + " is out of range (" + std::to_string(min_port) +
                         "..65535)");
  out.port = static_cast<std::uint16_t>(port);
  return out;
}

bool is_multicast(const pktparse::IpAddr& a) noexcept {
  if (a.family == 4) return (a.bytes[0] & 0xF0) == 0xE0;  // 224.0.0.0/4
  return a.family == 6 && a.bytes[0] == 0xFF;             // ff00::/8
}

bool is_unspecified(const pktparse::IpAddr& a) noexcept {
  const std::size_t n = a.family == 4 ? 4 : 16;
  return std::all_of(a.bytes, a.bytes + n, [](std::uint8_t b) { return b == 0; });
}

bool same_address(const pktparse::IpAddr& a, const pktparse::IpAddr& b) noexcept {
  return a.family == b.family && std::memcmp(a.bytes, b.bytes, sizeof a.bytes) == 0;
}

std::string to_string(const pktparse::IpAddr& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (!inet_ntop(a.family == 4 ? AF_INET : AF_INET6, a.bytes, buf, sizeof buf)) return "?";
  return buf;
}

std::string to_string(const IpPort& a) {
  const std::string host = to_string(a.addr);
  return (a.addr.family == 6 ? '[' + host + ']' : host) + ':' + std::to_string(a.port);
}

}  // namespace gateway
