// Scrambling and descrambling of one UDP payload, exactly as wire-format.md
// sections 3 and 4 say, in place and without allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "pktparse/checksum.h"
#include "pktparse/key.h"
#include "pktparse/keycast_header.h"
#include "pktparse/payload.h"
#include "pktparse/status.h"

namespace pktparse {

// The largest UDP payload that still fits an IPv4 datagram.
inline constexpr std::size_t kMaxUdpPayload = 65507;

// How a channel's payloads are to be handled.
struct ChannelRules {
  bool ts = false;   // payload is MPEG-TS: scramble TS packet payloads only
  bool rtp = false;  // payload starts with an RTP header, kept clear
  PidSet clear_pids;  // TS packets left clear (defaults plus the channel's)
};

// Scrambles the UDP payload payload[0, len) in place under `key`. `hdr` gives
// channel_id, seq and TLVs; its type, suite, key_id, flags and hdr_len are set
// here. The header goes to hdr_out (header_len(hdr) bytes; usually right in
// front of the payload) and, for GCM, the tag to payload + len.
// Flags follow the content: TS only when the rest of the payload is whole TS
// packets (else scrambled whole), RTP only when a version-2 header is there.
// On an error the buffers hold garbage and the datagram must be dropped.
// `sum`, if given, gets the one's-complement sum of the scrambled payload
// where the suite's pass could take it (known: the xor suites, except TS
// packets that are not all of payload only), for set_udp_checksum().
Status scramble(PreparedKey& key, const ChannelRules& rules, KcHeader& hdr, std::uint8_t* hdr_out,
                std::uint8_t* payload, std::size_t len, PayloadSum* sum = nullptr) noexcept;

// Descrambles a DATA datagram in place: udp_payload is the whole scrambled UDP
// payload, hdr what parse_header() read from it, and key the key whose id is
// hdr.key_id. On ok, `clear` is the original UDP payload (inside udp_payload,
// at hdr.hdr_len). On an error the datagram must be dropped. `sum` as for
// scramble(), of `clear`.
Status descramble(PreparedKey& key, const KcHeader& hdr, std::span<std::uint8_t> udp_payload,
                  std::span<std::uint8_t>& clear, PayloadSum* sum = nullptr) noexcept;

}  // namespace pktparse
