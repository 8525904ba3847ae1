// L2-L4 parsing: Ethernet, 802.1Q/QinQ, IPv4 (options), IPv6 (extension
// headers) and UDP. Bytes in, offsets out; no allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "pktparse/status.h"

namespace pktparse {

inline constexpr std::uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr std::uint16_t kEtherTypeIpv6 = 0x86DD;
inline constexpr std::uint16_t kEtherTypeVlan = 0x8100;
inline constexpr std::uint16_t kEtherTypeQinQ = 0x88A8;
inline constexpr std::uint8_t kIpProtoUdp = 17;

struct IpAddr {
  std::uint8_t family = 0;  // 4 or 6
  std::uint8_t bytes[16] = {};  // IPv4 in bytes[0..4)
};

// Where the headers of one frame are, as offsets from the frame's first byte.
struct PacketView {
  std::uint8_t vlan_count = 0;
  std::uint16_t vlan_tci[2] = {};  // outer first
  std::uint16_t l3_offset = 0;     // IPv4 or IPv6 header
  std::uint16_t l4_offset = 0;     // UDP header
  std::uint16_t payload_offset = 0;  // UDP payload
  std::uint16_t payload_len = 0;     // UDP payload bytes (from the UDP length)
  std::uint8_t ip_version = 0;       // 4 or 6
  std::uint8_t ttl = 0;              // IPv4 TTL or IPv6 hop limit
  IpAddr src;
  IpAddr dst;
  std::uint16_t src_port = 0;
  std::uint16_t dst_port = 0;
};

// Parses an Ethernet frame down to its UDP payload. Fragments, non-UDP and
// every malformed header get their own Status; the view is valid only on ok.
// Trailing bytes after the IP datagram (Ethernet padding) are allowed.
Status parse_frame(std::span<const std::uint8_t> frame, PacketView& view) noexcept;

// Same, starting at an IPv4 or IPv6 header (no L2), for raw-socket users.
Status parse_ip(std::span<const std::uint8_t> packet, PacketView& view) noexcept;

}  // namespace pktparse
