// RTP and MPEG-TS layout rules.
#include "pktparse/payload.h"

#include "pktparse/bytes.h"

namespace pktparse {

Status rtp_header_len(std::span<const std::uint8_t> r, std::size_t& len) noexcept {
  if (r.size() < kRtpFixedLen) return Status::rtp_truncated;
  if ((r[0] >> 6) != 2) return Status::rtp_bad_version;
  std::size_t n = kRtpFixedLen + 4u * (r[0] & 0x0F);
  if (r[0] & 0x10) {
    if (r.size() < n + 4) return Status::rtp_truncated;
    n += 4 + 4u * load_be16(&r[n + 2]);
  }
  if (r.size() < n) return Status::rtp_truncated;
  len = n;
  return Status::ok;
}

bool whole_ts_packets(std::span<const std::uint8_t> r) noexcept {
  if (r.empty() || r.size() % kTsPacketLen != 0) return false;
  for (std::size_t i = 0; i < r.size(); i += kTsPacketLen)
    if (r[i] != kTsSync) return false;
  return true;
}

Status ts_payload_offset(const std::uint8_t* pkt, std::size_t& offset) noexcept {
  switch ((pkt[3] >> 4) & 0x3) {
    case 0x1:
      offset = 4;
      return Status::ok;
    case 0x3: {
      const std::size_t af_end = 5u + pkt[4];
      if (af_end > kTsPacketLen) return Status::ts_bad_adaptation_field;
      offset = af_end;
      return Status::ok;
    }
    default:
      offset = kTsPacketLen;
      return Status::ok;
  }
}

PidSet::PidSet() noexcept {
  for (std::uint16_t pid = 0; pid <= 0x1F; ++pid) bits_.set(pid);
  bits_.set(kTsNullPid);
}

}  // namespace pktparse
