// L2-L4 rewrite of a datagram leaving on a channel's output group: MACs, IP
// length, destination, TTL/hop limit, IPv4 header checksum, UDP length, port
// and checksum (0 on an IPv4 channel configured without one). Bytes only (no DPDK), shared by DATA and KEY_NOTICE frames.
#pragma once

#include <cstddef>
#include <cstdint>

#include "channel_table.h"
#include "pktparse/checksum.h"
#include "pktparse/net.h"

namespace gateway {

// Where the UDP checksum of a channel that has one comes from. by_port: the
// output port completes it (TX offload), so only the pseudo-header's sum goes
// into the field. Otherwise it is computed over the pseudo-header and the
// datagram, except that a known payload_sum stands for the bytes from
// payload_offset (even, counted from the UDP header) to the end.
struct UdpChecksumSource {
  bool by_port = false;
  std::size_t payload_offset = 0;
  pktparse::PayloadSum payload_sum;
};

// frame holds the headers described by v (L2 through UDP) followed by
// udp_payload_len bytes of UDP payload. False when the result would not fit
// the IP length field (nothing written then).
bool rewrite_headers(std::uint8_t* frame, const pktparse::PacketView& v, const Channel& c,
                     const std::uint8_t src_mac[6], std::size_t udp_payload_len,
                     const UdpChecksumSource& checksum = {}) noexcept;

}  // namespace gateway
