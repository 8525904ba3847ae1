// The keycast header and its TLVs (wire-format.md section 2): validation,
// parsing and encoding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "pktparse/status.h"
#include "pktparse/suite.h"

namespace pktparse {

inline constexpr std::uint8_t kKcMagic[2] = {0x4B, 0x43};
inline constexpr std::uint8_t kKcVersion = 1;
inline constexpr std::size_t kKcBaseHeaderLen = 24;

enum class MsgType : std::uint8_t { data = 0x01, key_notice = 0x02 };

inline constexpr std::uint8_t kFlagTs = 0x01;
inline constexpr std::uint8_t kFlagRtp = 0x02;

enum class TlvType : std::uint8_t {
  pad = 0x00,
  key_remaining_ms = 0x01,
  keymgr_addr4 = 0x02,
  keymgr_addr6 = 0x03,
  next_key_id = 0x04,
  next_key_in_ms = 0x05,
};

struct KeymgrAddr {
  std::uint8_t addr[16] = {};  // IPv4 in addr[0..4)
  std::uint16_t port = 0;
};

// A header as fields. TLVs are present when their bit in `tlvs` is set; when
// several TLVs of one type arrive, the first is kept.
struct KcHeader {
  MsgType type = MsgType::data;
  Suite suite = Suite::xor_pattern;
  std::uint8_t flags = 0;
  std::uint16_t hdr_len = kKcBaseHeaderLen;
  std::uint32_t channel_id = 0;
  std::uint32_t key_id = 0;
  std::uint64_t seq = 0;

  std::uint8_t tlvs = 0;
  std::uint32_t key_remaining_ms = 0;
  KeymgrAddr keymgr4;
  KeymgrAddr keymgr6;
  std::uint32_t next_key_id = 0;
  std::uint32_t next_key_in_ms = 0;

  bool has(TlvType t) const noexcept { return tlvs & bit(t); }
  void set(TlvType t) noexcept { tlvs = static_cast<std::uint8_t>(tlvs | bit(t)); }
  void clear(TlvType t) noexcept { tlvs = static_cast<std::uint8_t>(tlvs & ~bit(t)); }
  static constexpr std::uint8_t bit(TlvType t) noexcept {
    return static_cast<std::uint8_t>(1u << static_cast<std::uint8_t>(t));
  }
};

// Validates and reads the header at the start of a UDP payload, applying every
// rejection of wire-format.md section 2. For a KEY_NOTICE it also requires
// NEXT_KEY_ID and no bytes after the header. Payload-region checks that depend
// on the suite are descramble()'s.
Status parse_header(std::span<const std::uint8_t> udp_payload, KcHeader& out) noexcept;

// Bytes the header takes: 24, its TLVs in type order, PAD to a multiple of 4.
std::uint16_t header_len(const KcHeader& hdr) noexcept;

// Writes header_len(hdr) bytes at out (hdr.hdr_len is not read) and returns
// that length.
std::size_t encode_header(const KcHeader& hdr, std::uint8_t* out) noexcept;

// A KEY_NOTICE announcing that next_key_id follows current_key_id in
// next_in_ms milliseconds.
KcHeader make_key_notice(std::uint32_t channel_id, Suite suite, std::uint32_t current_key_id,
                         std::uint32_t next_key_id, std::uint32_t next_in_ms) noexcept;

}  // namespace pktparse
