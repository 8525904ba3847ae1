// Test frames: Ethernet (optionally 802.1Q) / IPv4 or IPv6 / UDP with valid
// checksums, and MPEG-TS or raw payloads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pcap_file.h"
#include "pktparse/net.h"

namespace gateway::test {

pktparse::IpAddr ip(const std::string& text);  // IPv4 or IPv6 literal

struct UdpSpec {
  pktparse::IpAddr src;
  pktparse::IpAddr dst;
  std::uint16_t src_port = 40000;
  std::uint16_t dst_port = 5000;
  std::optional<std::uint16_t> vlan;  // 802.1Q TCI
  std::uint8_t ttl = 8;
};

Frame udp_frame(const UdpSpec& spec, const std::vector<std::uint8_t>& payload);

// n TS packets: a PAT (PID 0, left clear) then PID 0x100 packets with
// payload, continuity counters from cc; bytes vary with seed. Without the PAT
// (with_pat false) every packet is PID 0x100, payload only: the xor suites'
// one-XOR path (PreparedKey::ts_keystream).
std::vector<std::uint8_t> ts_payload(std::size_t packets, std::uint8_t cc, std::uint32_t seed, bool with_pat = true);
std::vector<std::uint8_t> raw_payload(std::size_t len, std::uint32_t seed);

}  // namespace gateway::test
