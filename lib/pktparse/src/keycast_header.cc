// keycast header validation, parsing and encoding.
#include "pktparse/keycast_header.h"

#include <cstring>

#include "pktparse/bytes.h"

namespace pktparse {

namespace {

constexpr std::uint8_t kKnownFlags = kFlagTs | kFlagRtp;

constexpr std::uint8_t tlv_value_len(TlvType t) noexcept {
  switch (t) {
    case TlvType::key_remaining_ms:
    case TlvType::next_key_id:
    case TlvType::next_key_in_ms:
      return 4;
    case TlvType::keymgr_addr4:
      return 6;
    case TlvType::keymgr_addr6:
      return 18;
    case TlvType::pad:
      break;
  }
  return 0;
}

constexpr TlvType kEncodeOrder[] = {TlvType::key_remaining_ms, TlvType::keymgr_addr4, TlvType::keymgr_addr6,
                                    TlvType::next_key_id, TlvType::next_key_in_ms};

void read_tlv(KcHeader& h, TlvType t, const std::uint8_t* v) noexcept {
  if (h.has(t)) return;
  h.set(t);
  switch (t) {
    case TlvType::key_remaining_ms: h.key_remaining_ms = load_be32(v); break;
    case TlvType::next_key_id: h.next_key_id = load_be32(v); break;
    case TlvType::next_key_in_ms: h.next_key_in_ms = load_be32(v); break;
    case TlvType::keymgr_addr4:
      std::memcpy(h.keymgr4.addr, v, 4);
      h.keymgr4.port = load_be16(v + 4);
      break;
    case TlvType::keymgr_addr6:
      std::memcpy(h.keymgr6.addr, v, 16);
      h.keymgr6.port = load_be16(v + 16);
      break;
    case TlvType::pad: break;
  }
}

std::uint8_t* write_tlv(const KcHeader& h, TlvType t, std::uint8_t* p) noexcept {
  *p++ = static_cast<std::uint8_t>(t);
  *p++ = tlv_value_len(t);
  switch (t) {
    case TlvType::key_remaining_ms: store_be32(p, h.key_remaining_ms); break;
    case TlvType::next_key_id: store_be32(p, h.next_key_id); break;
    case TlvType::next_key_in_ms: store_be32(p, h.next_key_in_ms); break;
    case TlvType::keymgr_addr4:
      std::memcpy(p, h.keymgr4.addr, 4);
      store_be16(p + 4, h.keymgr4.port);
      break;
    case TlvType::keymgr_addr6:
      std::memcpy(p, h.keymgr6.addr, 16);
      store_be16(p + 16, h.keymgr6.port);
      break;
    case TlvType::pad: break;
  }
  return p + tlv_value_len(t);
}

Status parse_tlvs(std::span<const std::uint8_t> tlvs, KcHeader& h) noexcept {
  std::size_t i = 0;
  while (i < tlvs.size()) {
    const std::uint8_t type = tlvs[i];
    if (type == static_cast<std::uint8_t>(TlvType::pad)) {
      ++i;
      continue;
    }
    if (tlvs.size() - i < 2) return Status::kc_tlv_overrun;
    const std::uint8_t len = tlvs[i + 1];
    if (tlvs.size() - i - 2 < len) return Status::kc_tlv_overrun;
    const auto t = static_cast<TlvType>(type);
    const std::uint8_t want = tlv_value_len(t);
    if (want != 0) {
      if (len != want) return Status::kc_bad_tlv_length;
      read_tlv(h, t, tlvs.data() + i + 2);
    }
    i += 2u + len;
  }
  return Status::ok;
}

}  // namespace

Status parse_header(std::span<const std::uint8_t> d, KcHeader& out) noexcept {
  if (d.size() < kKcBaseHeaderLen) return Status::kc_truncated;
  if (d[0] != kKcMagic[0] || d[1] != kKcMagic[1]) return Status::kc_bad_magic;
  if (d[2] != kKcVersion) return Status::kc_bad_version;
  if (d[3] != static_cast<std::uint8_t>(MsgType::data) && d[3] != static_cast<std::uint8_t>(MsgType::key_notice))
    return Status::kc_bad_type;
  if (!suite_valid(d[4])) return Status::kc_bad_suite;
  if (d[5] & ~kKnownFlags) return Status::kc_bad_flags;
  const std::uint16_t hdr_len = load_be16(&d[6]);
  if (hdr_len < kKcBaseHeaderLen || hdr_len % 4 != 0) return Status::kc_bad_hdr_len;
  if (hdr_len > d.size()) return Status::kc_hdr_len_beyond_datagram;

  KcHeader h;
  h.type = static_cast<MsgType>(d[3]);
  h.suite = static_cast<Suite>(d[4]);
  h.flags = d[5];
  h.hdr_len = hdr_len;
  h.channel_id = load_be32(&d[8]);
  h.key_id = load_be32(&d[12]);
  h.seq = load_be64(&d[16]);
  if (h.channel_id == 0) return Status::kc_zero_channel;
  if (h.type == MsgType::data && h.key_id == 0) return Status::kc_zero_key;
  if (suite_is_gcm(h.suite) && (h.flags & kFlagTs)) return Status::kc_ts_with_gcm;
  if (const Status s = parse_tlvs(d.subspan(kKcBaseHeaderLen, hdr_len - kKcBaseHeaderLen), h); s != Status::ok)
    return s;
  if (h.type == MsgType::key_notice) {
    if (!h.has(TlvType::next_key_id)) return Status::kc_notice_incomplete;
    if (d.size() != hdr_len) return Status::kc_notice_with_payload;
  }
  out = h;
  return Status::ok;
}

std::uint16_t header_len(const KcHeader& hdr) noexcept {
  std::size_t len = kKcBaseHeaderLen;
  for (const TlvType t : kEncodeOrder)
    if (hdr.has(t)) len += 2u + tlv_value_len(t);
  return static_cast<std::uint16_t>((len + 3) & ~std::size_t{3});
}

std::size_t encode_header(const KcHeader& hdr, std::uint8_t* out) noexcept {
  const std::uint16_t len = header_len(hdr);
  out[0] = kKcMagic[0];
  out[1] = kKcMagic[1];
  out[2] = kKcVersion;
  out[3] = static_cast<std::uint8_t>(hdr.type);
  out[4] = static_cast<std::uint8_t>(hdr.suite);
  out[5] = hdr.flags;
  store_be16(out + 6, len);
  store_be32(out + 8, hdr.channel_id);
  store_be32(out + 12, hdr.key_id);
  store_be64(out + 16, hdr.seq);
  std::uint8_t* p = out + kKcBaseHeaderLen;
  for (const TlvType t : kEncodeOrder)
    if (hdr.has(t)) p = write_tlv(hdr, t, p);
  while (p < out + len) *p++ = static_cast<std::uint8_t>(TlvType::pad);
  return len;
}

KcHeader make_key_notice(std::uint32_t channel_id, Suite suite, std::uint32_t current_key_id,
                         std::uint32_t next_key_id, std::uint32_t next_in_ms) noexcept {
  KcHeader h;
  h.type = MsgType::key_notice;
  h.suite = suite;
  h.channel_id = channel_id;
  h.key_id = current_key_id;
  h.next_key_id = next_key_id;
  h.next_key_in_ms = next_in_ms;
  h.set(TlvType::next_key_id);
  h.set(TlvType::next_key_in_ms);
  h.hdr_len = header_len(h);
  return h;
}

}  // namespace pktparse
