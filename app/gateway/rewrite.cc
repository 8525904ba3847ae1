// Header rewrite for the output group.
#include "rewrite.h"

#include <cstring>

#include "pktparse/bytes.h"
#include "pktparse/checksum.h"

namespace gateway {

bool rewrite_headers(std::uint8_t* frame, const pktparse::PacketView& v, const Channel& c,
                     const std::uint8_t src_mac[6], std::size_t udp_payload_len) noexcept {
  const std::size_t udp_len = 8 + udp_payload_len;
  const std::size_t ip_hdrs = static_cast<std::size_t>(v.l4_offset - v.l3_offset);
  std::uint8_t* ip = frame + v.l3_offset;
  std::uint8_t* udp = frame + v.l4_offset;
  if (udp_len > 0xFFFF) return false;
  if (v.ip_version == 4) {
    if (ip_hdrs + udp_len > 0xFFFF) return false;
    pktparse::store_be16(ip + 2, static_cast<std::uint16_t>(ip_hdrs + udp_len));
    ip[8] = c.ttl;
    std::memcpy(ip + 16, c.out_addr.bytes, 4);
    pktparse::set_ipv4_checksum(ip);
  } else {
    if (ip_hdrs - 40 + udp_len > 0xFFFF) return false;
    pktparse::store_be16(ip + 4, static_cast<std::uint16_t>(ip_hdrs - 40 + udp_len));
    ip[7] = c.ttl;
    std::memcpy(ip + 24, c.out_addr.bytes, 16);
  }
  std::memcpy(frame, c.out_mac, 6);
  std::memcpy(frame + 6, src_mac, 6);
  pktparse::store_be16(udp + 2, c.out_port);
  pktparse::store_be16(udp + 4, static_cast<std::uint16_t>(udp_len));
  pktparse::set_udp_checksum(ip, udp);
  return true;
}

}  // namespace gateway
