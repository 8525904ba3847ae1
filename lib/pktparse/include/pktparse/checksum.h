// Internet checksums: IPv4 header and UDP over IPv4/IPv6 (pseudo-header).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace pktparse {

// One's-complement sum of bytes folded to 16 bits, not inverted, added to
// `initial` (so sums over pieces can be chained).
std::uint32_t ones_sum(std::span<const std::uint8_t> bytes, std::uint32_t initial = 0) noexcept;
inline std::uint16_t fold(std::uint32_t sum) noexcept {
  sum = (sum & 0xFFFFu) + (sum >> 16);
  sum = (sum & 0xFFFFu) + (sum >> 16);
  return static_cast<std::uint16_t>(sum);
}

// Writes the checksum of the IPv4 header at ip (its IHL bytes) into it.
void set_ipv4_checksum(std::uint8_t* ip) noexcept;
bool ipv4_checksum_ok(const std::uint8_t* ip) noexcept;

// Writes the UDP checksum of the datagram whose UDP header is at udp (length
// taken from the UDP length field) under the given IP header (version from its
// first nibble). A computed 0 is sent as 0xFFFF (RFC 768).
void set_udp_checksum(const std::uint8_t* ip, std::uint8_t* udp) noexcept;

// The one's-complement sum of a payload, taken while scramble() or
// descramble() wrote it (unfolded, native byte order, counted from the
// payload's first byte), so that the UDP checksum need not read it again.
struct PayloadSum {
  std::uint64_t native = 0;
  bool known = false;
};
// Its value as ones_sum() gives a sum: folded to 16 bits, network order.
std::uint32_t network_sum(const PayloadSum& sum) noexcept;
// set_udp_checksum() for a datagram whose bytes from udp + payload_offset
// (even) to its end have the sum `payload`: only the bytes before them and
// the pseudo-header are read.
void set_udp_checksum(const std::uint8_t* ip, std::uint8_t* udp, std::size_t payload_offset,
                      const PayloadSum& payload) noexcept;
bool udp_checksum_ok(const std::uint8_t* ip, const std::uint8_t* udp) noexcept;

// For a NIC that computes the UDP checksum (DPDK's RTE_MBUF_F_TX_UDP_CKSUM):
// writes the pseudo-header's sum, folded and not inverted, into the checksum
// field, where such NICs expect it (as rte_ipv4/ipv6_phdr_cksum()).
void set_udp_pseudo_header_sum(const std::uint8_t* ip, std::uint8_t* udp) noexcept;

}  // namespace pktparse
