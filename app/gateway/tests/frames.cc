// Building test frames byte by byte.
#include "frames.h"

#include <arpa/inet.h>

#include <cstring>
#include <stdexcept>

#include "pktparse/bytes.h"
#include "pktparse/checksum.h"

namespace gateway::test {

pktparse::IpAddr ip(const std::string& text) {
  pktparse::IpAddr a;
  if (::inet_pton(AF_INET, text.c_str(), a.bytes) == 1) a.family = 4;
  else if (::inet_pton(AF_INET6, text.c_str(), a.bytes) == 1) a.family = 6;
  else throw std::invalid_argument("not an IP literal: " + text);
  return a;
}

Frame udp_frame(const UdpSpec& s, const std::vector<std::uint8_t>& payload) {
  const bool v4 = s.dst.family == 4;
  const std::size_t l3 = 14 + (s.vlan ? 4 : 0);
  const std::size_t l4 = l3 + (v4 ? 20 : 40);
  const auto udp_len = static_cast<std::uint16_t>(8 + payload.size());
  Frame f(l4 + udp_len, 0);
  std::uint8_t* p = f.data();
  // Destination MAC of the group; a locally administered source.
  if (v4) {
    const std::uint8_t mac[6] = {0x01, 0x00, 0x5e, static_cast<std::uint8_t>(s.dst.bytes[1] & 0x7f), s.dst.bytes[2],
                                 s.dst.bytes[3]};
    std::memcpy(p, mac, 6);
  } else {
    const std::uint8_t mac[6] = {0x33, 0x33, s.dst.bytes[12], s.dst.bytes[13], s.dst.bytes[14], s.dst.bytes[15]};
    std::memcpy(p, mac, 6);
  }
  const std::uint8_t src_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
  std::memcpy(p + 6, src_mac, 6);
  if (s.vlan) {
    pktparse::store_be16(p + 12, 0x8100);
    pktparse::store_be16(p + 14, *s.vlan);
  }
  pktparse::store_be16(p + l3 - 2, v4 ? 0x0800 : 0x86DD);
  std::uint8_t* ip = p + l3;
  if (v4) {
    ip[0] = 0x45;
    pktparse::store_be16(ip + 2, static_cast<std::uint16_t>(20 + udp_len));
    pktparse::store_be16(ip + 4, 0x1234);
    pktparse::store_be16(ip + 6, 0x4000);  // DF
    ip[8] = s.ttl;
    ip[9] = 17;
    std::memcpy(ip + 12, s.src.bytes, 4);
    std::memcpy(ip + 16, s.dst.bytes, 4);
  } else {
    ip[0] = 0x60;
    pktparse::store_be16(ip + 4, udp_len);
    ip[6] = 17;
    ip[7] = s.ttl;
    std::memcpy(ip + 8, s.src.bytes, 16);
    std::memcpy(ip + 24, s.dst.bytes, 16);
  }
  std::uint8_t* udp = p + l4;
  pktparse::store_be16(udp, s.src_port);
  pktparse::store_be16(udp + 2, s.dst_port);
  pktparse::store_be16(udp + 4, udp_len);
  if (!payload.empty()) std::memcpy(udp + 8, payload.data(), payload.size());
  if (v4) pktparse::set_ipv4_checksum(ip);
  pktparse::set_udp_checksum(ip, udp);
  return f;
}

std::vector<std::uint8_t> ts_payload(std::size_t packets, std::uint8_t cc, std::uint32_t seed, bool with_pat) {
  std::vector<std::uint8_t> out;
  std::uint32_t x = seed * 2654435761u + 1;
  for (std::size_t i = 0; i < packets; ++i) {
    const std::uint16_t pid = i == 0 && with_pat ? 0x0000 : 0x0100;
    out.push_back(0x47);
    out.push_back(static_cast<std::uint8_t>((i <= 1 ? 0x40 : 0x00) | (pid >> 8)));
    out.push_back(static_cast<std::uint8_t>(pid));
    out.push_back(static_cast<std::uint8_t>(0x10 | ((cc + i) & 0x0f)));  // payload only, not scrambled
    for (std::size_t b = 4; b < 188; ++b) {
      x = x * 1103515245u + 12345u;
      out.push_back(static_cast<std::uint8_t>(x >> 16));
    }
  }
  return out;
}

std::vector<std::uint8_t> raw_payload(std::size_t len, std::uint32_t seed) {
  std::vector<std::uint8_t> out(len);
  std::uint32_t x = seed * 2246822519u + 7;
  for (auto& b : out) {
    x = x * 1664525u + 1013904223u;
    b = static_cast<std::uint8_t>(x >> 24);
  }
  return out;
}

}  // namespace gateway::test
