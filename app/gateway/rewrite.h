// L2-L4 rewrite of a datagram leaving on a channel's output group: MACs, IP
// length, destination, TTL/hop limit, IPv4 header checksum, UDP length, port
// and checksum (0 on an IPv4 channel configured without one). Bytes only (no DPDK), shared by DATA and KEY_NOTICE frames.
#pragma once

#include <cstddef>
#include <cstdint>

#include "channel_table.h"
#include "pktparse/net.h"

namespace gateway {

// frame holds the headers described by v (L2 through UDP) followed by
// udp_payload_len bytes of UDP payload. udp_checksum_by_port: the output port
// completes the UDP checksum (TX offload), so only the pseudo-header's sum
// goes into the field. False when the result would not fit the IP length
// field (nothing written then).
bool rewrite_headers(std::uint8_t* frame, const pktparse::PacketView& v, const Channel& c,
                     const std::uint8_t src_mac[6], std::size_t udp_payload_len,
                     bool udp_checksum_by_port = false) noexcept;

}  // namespace gateway
