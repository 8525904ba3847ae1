// IP literals of the gateway config: "239.1.1.1", "ff3e::1", and with a port
// "239.1.1.1:5000" or "[ff3e::1]:5000". No names: the data path and the key
// manager client must not wait on a resolver.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pktparse/net.h"

namespace gateway {

struct IpPort {
  pktparse::IpAddr addr;
  std::uint16_t port = 0;
};

// An IPv4 or IPv6 literal (IPv6 without brackets), through inet_pton.
std::optional<pktparse::IpAddr> parse_ip(std::string_view text);

// "a.b.c.d:port" or "[v6]:port" with port in min_port..65535. On failure
// returns nullopt and says why in *why.
std::optional<IpPort> parse_ip_port(std::string_view text, std::uint16_t min_port, std::string* why);

bool is_multicast(const pktparse::IpAddr& a) noexcept;
bool is_unspecified(const pktparse::IpAddr& a) noexcept;  // 0.0.0.0 or ::
bool same_address(const pktparse::IpAddr& a, const pktparse::IpAddr& b) noexcept;

// Through inet_ntop: "239.1.1.1", "ff3e::1"; with a port "[ff3e::1]:5000".
std::string to_string(const pktparse::IpAddr& a);
std::string to_string(const IpPort& a);

}  // namespace gateway
