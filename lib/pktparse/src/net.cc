// Ethernet / 802.1Q / QinQ / IPv4 / IPv6 / UDP parsing of untrusted frames.
// Every read is checked against the span first; sizes are kept in size_t and
// only compared as "wanted <= available - offset" with offset <= available.
#include "pktparse/net.h"

#include <cstring>

#include "checksum_kernels.h"
#include "pktparse/bytes.h"
#include "pktparse/checksum.h"

namespace pktparse {
namespace {

constexpr std::size_t kEthHeaderLen = 14;
constexpr std::size_t kEtherTypeOffset = 12;
constexpr std::size_t kVlanTagLen = 4;
constexpr std::uint8_t kMaxVlanTags = 2;
constexpr std::size_t kIpv4MinHeaderLen = 20;
constexpr std::size_t kIpv6HeaderLen = 40;
constexpr std::size_t kUdpHeaderLen = 8;
constexpr unsigned kMaxIpv6ExtHeaders = 8;

constexpr std::uint16_t kIpv4FlagMf = 0x2000;
constexpr std::uint16_t kIpv4FragOffsetMask = 0x1FFF;

constexpr std::uint8_t kProtoHopByHop = 0;
constexpr std::uint8_t kProtoRouting = 43;
constexpr std::uint8_t kProtoFragment = 44;
constexpr std::uint8_t kProtoDestOpts = 60;

// Offsets stored in PacketView: every caller has bounded them far below 64 KiB
// (l4 <= l3 + 40 + 8 * 2048 for IPv6, l3 + 60 for IPv4).
inline std::uint16_t off16(std::size_t v) noexcept {
  return static_cast<std::uint16_t>(v);
}

void set_addr(IpAddr& a, std::uint8_t family, const std::uint8_t* p, std::size_t n) noexcept {
  a.family = family;
  std::memcpy(a.bytes, p, n);
}

// UDP header at l4; the IP layer says its datagram ends at ip_end.
// Precondition: l4 <= ip_end <= p.size().
Status parse_udp(std::span<const std::uint8_t> p, std::size_t l4, std::size_t ip_end,
                 PacketView& v) noexcept {
  const std::size_t remaining = ip_end - l4;
  if (remaining < kUdpHeaderLen) return Status::udp_truncated;
  const std::uint8_t* udp = p.data() + l4;
  const std::size_t udp_len = load_be16(udp + 4);
  if (udp_len < kUdpHeaderLen || udp_len != remaining) return Status::udp_bad_length;
  v.src_port = load_be16(udp);
  v.dst_port = load_be16(udp + 2);
  v.l4_offset = off16(l4);
  v.payload_offset = off16(l4 + kUdpHeaderLen);
  v.payload_len = off16(udp_len - kUdpHeaderLen);
  return Status::ok;
}

// ipv4_checksum_ok() inline: valid when the header's native-order sum folds
// to all ones, which is byte-order independent. Avoids a call per frame.
inline bool ipv4_header_sum_ok(const std::uint8_t* ip, std::size_t ihl) noexcept {
  return detail::short_sum(ip, ihl) == 0xFFFF;
}

// Precondition: l3 <= p.size().
Status parse_ipv4(std::span<const std::uint8_t> p, std::size_t l3, PacketView& v) noexcept {
  const std::size_t avail = p.size() - l3;
  if (avail < kIpv4MinHeaderLen) return Status::ipv4_truncated;
  const std::uint8_t* ip = p.data() + l3;
  if ((ip[0] >> 4) != 4) return Status::ipv4_bad_version;
  const std::size_t ihl = (ip[0] & 0x0Fu) * 4u;
  if (ihl < kIpv4MinHeaderLen) return Status::ipv4_bad_ihl;
  if (ihl > avail) return Status::ipv4_truncated;
  const std::size_t total = load_be16(ip + 2);
  if (total < ihl || total > avail) return Status::ipv4_bad_total_length;
  if (!ipv4_header_sum_ok(ip, ihl)) return Status::ipv4_bad_checksum;
  const std::uint16_t frag = load_be16(ip + 6);
  if ((frag & (kIpv4FlagMf | kIpv4FragOffsetMask)) != 0) return Status::ipv4_fragment;
  if (ip[9] != kIpProtoUdp) return Status::not_udp;
  v.l3_offset = off16(l3);
  v.ip_version = 4;
  v.ttl = ip[8];
  set_addr(v.src, 4, ip + 12, 4);
  set_addr(v.dst, 4, ip + 16, 4);
  return parse_udp(p, l3 + ihl, l3 + total, v);
}

// Precondition: l3 <= p.size().
Status parse_ipv6(std::span<const std::uint8_t> p, std::size_t l3, PacketView& v) noexcept {
  const std::size_t avail = p.size() - l3;
  if (avail < kIpv6HeaderLen) return Status::ipv6_truncated;
  const std::uint8_t* ip = p.data() + l3;
  if ((ip[0] >> 4) != 6) return Status::ipv6_bad_version;
  const std::size_t payload_len = load_be16(ip + 4);
  // 0 announces a jumbogram (Hop-by-Hop option); never accepted.
  if (payload_len == 0 || payload_len > avail - kIpv6HeaderLen) {
    return Status::ipv6_bad_payload_length;
  }
  const std::size_t end = l3 + kIpv6HeaderLen + payload_len;
  std::size_t off = l3 + kIpv6HeaderLen;
  std::uint8_t next = ip[6];
  for (unsigned count = 0; next != kIpProtoUdp; ++count) {
    if (next == kProtoFragment) return Status::ipv6_fragment;
    if (next != kProtoHopByHop && next != kProtoRouting && next != kProtoDestOpts) {
      return Status::not_udp;
    }
    // Hop-by-Hop is only allowed right after the IPv6 header (RFC 8200 4.3).
    if (next == kProtoHopByHop && count != 0) return Status::ipv6_bad_ext_header;
    if (count == kMaxIpv6ExtHeaders) return Status::ipv6_bad_ext_header;
    if (end - off < 2) return Status::ipv6_bad_ext_header;
    const std::size_t len = (p[off + 1] + std::size_t{1}) * 8u;
    if (len > end - off) return Status::ipv6_bad_ext_header;
    next = p[off];
    off += len;
  }
  v.l3_offset = off16(l3);
  v.ip_version = 6;
  v.ttl = ip[7];
  set_addr(v.src, 6, ip + 8, 16);
  set_addr(v.dst, 6, ip + 24, 16);
  return parse_udp(p, off, end, v);
}

}  // namespace

Status parse_frame(std::span<const std::uint8_t> frame, PacketView& view) noexcept {
  if (frame.size() < kEthHeaderLen) return Status::eth_truncated;
  // Filled in place: a local copied out at the end was read back in 16-byte
  // pieces over its just-stored narrow fields, a store-forwarding stall
  // per datagram.
  PacketView& v = view;
  v = PacketView{};
  std::size_t type_off = kEtherTypeOffset;
  std::uint16_t type = load_be16(frame.data() + type_off);
  while (type == kEtherTypeVlan || type == kEtherTypeQinQ) {
    if (v.vlan_count == kMaxVlanTags) return Status::vlan_too_many;
    // 802.1ad S-tags (0x88A8) only as the outer tag; an inner one is no IP.
    if (type == kEtherTypeQinQ && v.vlan_count != 0) return Status::not_ip;
    // TPID is at type_off; TCI and the next EtherType follow it.
    if (frame.size() - type_off < 2 + kVlanTagLen) return Status::vlan_truncated;
    v.vlan_tci[v.vlan_count++] = load_be16(frame.data() + type_off + 2);
    type_off += kVlanTagLen;
    type = load_be16(frame.data() + type_off);
  }
  const std::size_t l3 = type_off + 2;
  Status s = Status::not_ip;
  if (type == kEtherTypeIpv4) {
    s = parse_ipv4(frame, l3, v);
  } else if (type == kEtherTypeIpv6) {
    s = parse_ipv6(frame, l3, v);
  }
  return s;
}

Status parse_ip(std::span<const std::uint8_t> packet, PacketView& view) noexcept {
  if (packet.empty()) return Status::ipv4_truncated;
  PacketView& v = view;
  v = PacketView{};
  Status s = Status::not_ip;
  switch (packet[0] >> 4) {
    case 4:
      s = parse_ipv4(packet, 0, v);
      break;
    case 6:
      s = parse_ipv6(packet, 0, v);
      break;
    default:
      break;
  }
  return s;
}

}  // namespace pktparse
