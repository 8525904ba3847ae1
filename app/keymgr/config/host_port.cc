// Parsing and printing of host:port.
#include "host_port.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace keymgr {

namespace {

bool all_of(std::string_view s, bool (*pred)(char)) { return std::all_of(s.begin(), s.end(), pred); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ipv4ish(char c) { return is_digit(c) || c == '.'; }
bool is_hostname_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '.' || c == '-';
}

bool address_ok(int family, const std::string& text) {
  unsigned char buf[16];
  return inet_pton(family, text.c_str(), buf) == 1;
}

std::optional<HostPort> fail(std::string* why, std::string text) {
  if (why) *why = std::move(text);
  return std::nullopt;
}

}  // namespace

std::optional<HostPort> parse_host_port(std::string_view text, std::string* why) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos)
    return fail(why, "expected host:port (IPv6 as [addr]:port), got \"" + std::string(text) + '"');
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  HostPort hp;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    hp.host = std::string(host.substr(1, host.size() - 2));
    if (!address_ok(AF_INET6, hp.host)) return fail(why, "'" + hp.host + "' is not an IPv6 address");
  } else {
    hp.host = std::string(host);
    if (hp.host.empty()) return fail(why, "expected host:port, the host is empty");
    if (hp.host.find(':') != std::string::npos)
      return fail(why, "IPv6 addresses must be bracketed: [" + hp.host + "]:" + std::string(port_text));
    if (all_of(hp.host, is_ipv4ish) ? !address_ok(AF_INET, hp.host) : !all_of(hp.host, is_hostname_char))
      return fail(why, "'" + hp.host + "' is not a valid host name or IPv4 address");
  }
  unsigned long port = 0;
  const auto* end = port_text.data() + port_text.size();
  const auto [p, ec] = std::from_chars(port_text.data(), end, port);
  if (port_text.empty() || !all_of(port_text, is_digit) || p != end)
    return fail(why, "port '" + std::string(port_text) + "' is not a number");
  if (ec != std::errc() || port > 65535) return fail(why, "port " + std::string(port_text) + " is out of range (0..65535)");
  hp.port = static_cast<std::uint16_t>(port);
  return hp;
}

std::string to_string(const HostPort& hp) {
  const bool v6 = hp.host.find(':') != std::string::npos;
  return (v6 ? '[' + hp.host + ']' : hp.host) + ':' + std::to_string(hp.port);
}

}  // namespace keymgr
