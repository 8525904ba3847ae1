// "host:port" addresses of the key manager config ("[::1]:7700" for IPv6).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace keymgr {

struct HostPort {
  std::string host;  // name or address, IPv6 without brackets
  std::uint16_t port = 0;
  bool operator==(const HostPort&) const = default;
};

// Parses "host:port", "1.2.3.4:port" or "[v6]:port" (port 0..65535). On
// failure returns nullopt and says why in *why.
std::optional<HostPort> parse_host_port(std::string_view text, std::string* why);

// Back to "host:port", bracketing IPv6 addresses.
std::string to_string(const HostPort& hp);

}  // namespace keymgr
