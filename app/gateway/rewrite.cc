// Header rewrite for the output group.
#include "rewrite.h"

#include <cstring>

#include "pktparse/bytes.h"
#include "pktparse/checksum.h"

namespace gateway {
namespace {

inline std::uint32_t word(const std::uint8_t* p) noexcept {
  std::uint16_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

// The IPv4 header's new length, TTL and destination with its checksum updated
// incrementally (RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')) from the valid
// checksum it has (parse_frame checked it, or a rewrite wrote it). The result
// is the value a full recomputation gives (both fold a non-zero sum, so never
// 0x0000 for a negative zero), but nothing reads back the bytes just written:
// a wide load over them stalls on store forwarding. 16-bit words are summed
// in native order; the sum is byte-order independent.
inline void rewrite_ipv4(std::uint8_t* ip, std::uint16_t total_len, std::uint8_t ttl,
                         const std::uint8_t dst[4]) noexcept {
  std::uint8_t len_be[2];
  pktparse::store_be16(len_be, total_len);
  const std::uint8_t ttl_proto[2] = {ttl, ip[9]};
  std::uint32_t acc = (~word(ip + 10) & 0xFFFFu) + (~word(ip + 2) & 0xFFFFu) + (~word(ip + 8) & 0xFFFFu) +
                      (~word(ip + 16) & 0xFFFFu) + (~word(ip + 18) & 0xFFFFu);
  acc += word(len_be) + word(ttl_proto) + word(dst) + word(dst + 2);
  acc = (acc & 0xFFFFu) + (acc >> 16);
  acc = (acc & 0xFFFFu) + (acc >> 16);
  const auto sum = static_cast<std::uint16_t>(~acc);
  std::memcpy(ip + 2, len_be, 2);
  ip[8] = ttl;
  std::memcpy(ip + 16, dst, 4);
  std::memcpy(ip + 10, &sum, sizeof sum);
}

}  // namespace

bool rewrite_headers(std::uint8_t* frame, const pktparse::PacketView& v, const Channel& c,
                     const std::uint8_t src_mac[6], std::size_t udp_payload_len,
                     const UdpChecksumSource& checksum) noexcept {
  const std::size_t udp_len = 8 + udp_payload_len;
  const std::size_t ip_hdrs = static_cast<std::size_t>(v.l4_offset - v.l3_offset);
  std::uint8_t* ip = frame + v.l3_offset;
  std::uint8_t* udp = frame + v.l4_offset;
  if (udp_len > 0xFFFF) return false;
  if (v.ip_version == 4) {
    if (ip_hdrs + udp_len > 0xFFFF) return false;
    rewrite_ipv4(ip, static_cast<std::uint16_t>(ip_hdrs + udp_len), c.ttl, c.out_addr.bytes);
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
  if (c.udp_checksum && checksum.by_port) {
    pktparse::set_udp_pseudo_header_sum(ip, udp);
  } else if (c.udp_checksum && checksum.payload_sum.known) {
    pktparse::set_udp_checksum(ip, udp, checksum.payload_offset, checksum.payload_sum);
  } else if (c.udp_checksum) {
    pktparse::set_udp_checksum(ip, udp);
  } else {
    udp[6] = udp[7] = 0;
  }
  return true;
}

}  // namespace gateway
