// Payload formats inside a UDP datagram: RTP (RFC 3550) and MPEG-TS packets.
#pragma once

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <span>

#include "pktparse/status.h"

namespace pktparse {

inline constexpr std::size_t kRtpFixedLen = 12;
inline constexpr std::size_t kTsPacketLen = 188;
inline constexpr std::uint8_t kTsSync = 0x47;
inline constexpr std::uint16_t kTsNullPid = 0x1FFF;

// Length of the RTP header at the start of `region`: 12 bytes, 4 per CSRC and
// the header extension when X is set. rtp_bad_version or rtp_truncated when
// it is not a whole version-2 header.
Status rtp_header_len(std::span<const std::uint8_t> region, std::size_t& len) noexcept;

// Whether `region` is a non-empty whole number of TS packets, each starting
// with the sync byte.
bool whole_ts_packets(std::span<const std::uint8_t> region) noexcept;

inline std::uint16_t ts_pid(const std::uint8_t* pkt) noexcept {
  return static_cast<std::uint16_t>(((pkt[1] & 0x1F) << 8) | pkt[2]);
}
// transport_scrambling_control, 0..3.
inline std::uint8_t ts_scrambling(const std::uint8_t* pkt) noexcept { return pkt[3] >> 6; }
inline void ts_set_scrambling(std::uint8_t* pkt, std::uint8_t tsc) noexcept {
  pkt[3] = static_cast<std::uint8_t>((pkt[3] & 0x3F) | (tsc << 6));
}

// Offset of the payload within a 188-byte TS packet; kTsPacketLen when it has
// none (adaptation_field_control 00 or 10, or an adaptation field filling the
// packet). ts_bad_adaptation_field when the adaptation field overruns it.
Status ts_payload_offset(const std::uint8_t* pkt, std::size_t& offset) noexcept;

// PIDs a scrambler leaves clear: 0x0000-0x001F and 0x1FFF by default, plus
// whatever a channel adds.
class PidSet {
 public:
  PidSet() noexcept;
  void add(std::uint16_t pid) noexcept { bits_.set(pid & kTsNullPid); }
  bool contains(std::uint16_t pid) const noexcept { return bits_.test(pid & kTsNullPid); }

 private:
  std::bitset<8192> bits_;
};

}  // namespace pktparse
