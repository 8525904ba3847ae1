// parse_frame / parse_ip on frames built byte by byte: every accepted shape and
// every drop reason of the L2-L4 parser, plus every truncation of valid frames.
#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <utility>
#include <vector>

#include "pktparse/checksum.h"
#include "pktparse/net.h"

namespace pktparse {
namespace {

using Bytes = std::vector<std::uint8_t>;
template <typename T>
using List = std::initializer_list<T>;
using Tags = std::vector<std::pair<std::uint16_t, std::uint16_t>>;  // TPID, TCI
using Exts = std::vector<std::pair<std::uint8_t, std::uint8_t>>;    // type, len field

constexpr std::size_t kEth = 14;

void append16(Bytes& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v));
}

void put16(Bytes& b, std::size_t off, std::uint16_t v) {
  b.at(off) = static_cast<std::uint8_t>(v >> 8);
  b.at(off + 1) = static_cast<std::uint8_t>(v);
}

Bytes payload_of(std::size_t n) {
  Bytes p(n);
  for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<std::uint8_t>(0xA0 + i);
  return p;
}

Bytes udp(std::uint16_t sport, std::uint16_t dport, const Bytes& payload) {
  Bytes b;
  append16(b, sport);
  append16(b, dport);
  append16(b, static_cast<std::uint16_t>(8 + payload.size()));
  append16(b, 0);
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

struct V4Opts {
  Bytes options;  // a multiple of 4 bytes
  std::uint8_t proto = 17;
  std::uint16_t frag = 0x4000;  // DF
  std::uint8_t ttl = 64;
};

Bytes ipv4(const Bytes& l4, const V4Opts& o = {}) {
  const std::size_t ihl = 20 + o.options.size();
  Bytes b = {static_cast<std::uint8_t>(0x40 | (ihl / 4)), 0x00};
  append16(b, static_cast<std::uint16_t>(ihl + l4.size()));
  append16(b, 0x1234);  // identification
  append16(b, o.frag);
  b.push_back(o.ttl);
  b.push_back(o.proto);
  append16(b, 0);
  b.insert(b.end(), {192, 0, 2, 1, 239, 1, 2, 3});
  b.insert(b.end(), o.options.begin(), o.options.end());
  b.insert(b.end(), l4.begin(), l4.end());
  set_ipv4_checksum(b.data());
  if (o.proto == 17 && l4.size() >= 8) set_udp_checksum(b.data(), b.data() + ihl);
  return b;
}

// Extension headers in order; each gets (len + 1) * 8 bytes of zeros behind
// its next-header and length bytes.
Bytes ipv6(const Bytes& l4, const Exts& exts = {}, std::uint8_t l4_proto = 17) {
  Bytes b = {0x60, 0x01, 0x23, 0x45};  // version 6, traffic class 0, flow label
  append16(b, 0);                      // payload length, set below
  b.push_back(exts.empty() ? l4_proto : exts.front().first);
  b.push_back(33);  // hop limit
  const Bytes src = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  const Bytes dst = {0xff, 0x3e, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34};
  b.insert(b.end(), src.begin(), src.end());
  b.insert(b.end(), dst.begin(), dst.end());
  for (std::size_t i = 0; i < exts.size(); ++i) {
    const std::size_t at = b.size();
    b.resize(at + (exts[i].second + 1u) * 8u, 0);
    b[at] = i + 1 < exts.size() ? exts[i + 1].first : l4_proto;
    b[at + 1] = exts[i].second;
  }
  const std::size_t l4_at = b.size();
  b.insert(b.end(), l4.begin(), l4.end());
  put16(b, 4, static_cast<std::uint16_t>(b.size() - 40));
  if (l4_proto == 17 && l4.size() >= 8) set_udp_checksum(b.data(), b.data() + l4_at);
  return b;
}

Bytes eth(const Bytes& l3, std::uint16_t type, const Tags& tags = {}, std::size_t pad_to = 0) {
  Bytes b = {0x01, 0x00, 0x5e, 0x01, 0x02, 0x03, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
  for (const auto& [tpid, tci] : tags) {
    append16(b, tpid);
    append16(b, tci);
  }
  append16(b, type);
  b.insert(b.end(), l3.begin(), l3.end());
  if (b.size() < pad_to) b.resize(pad_to, 0);
  return b;
}

Bytes v4_frame(const Tags& tags = {}) {
  return eth(ipv4(udp(5000, 1234, payload_of(12))), kEtherTypeIpv4, tags);
}

Bytes v6_frame(const Exts& exts = {}) {
  return eth(ipv6(udp(5000, 1234, payload_of(12)), exts), kEtherTypeIpv6);
}

Status parse(const Bytes& f) {
  PacketView v;
  return parse_frame(f, v);
}

Status parse_l3(const Bytes& p) {
  PacketView v;
  return parse_ip(p, v);
}

void expect_payload(const Bytes& f, const PacketView& v, std::size_t n) {
  ASSERT_EQ(v.payload_len, n);
  ASSERT_LE(std::size_t{v.payload_offset} + v.payload_len, f.size());
  EXPECT_EQ(Bytes(f.begin() + v.payload_offset, f.begin() + v.payload_offset + n), payload_of(n));
}

// ---------------------------------------------------------------- L2

TEST(ParseFrame, UntaggedIpv4) {
  const Bytes f = v4_frame();
  PacketView v;
  ASSERT_EQ(parse_frame(f, v), Status::ok);
  EXPECT_EQ(v.vlan_count, 0);
  EXPECT_EQ(v.l3_offset, 14);
  EXPECT_EQ(v.l4_offset, 34);
  EXPECT_EQ(v.payload_offset, 42);
  EXPECT_EQ(v.ip_version, 4);
  EXPECT_EQ(v.ttl, 64);
  EXPECT_EQ(v.src.family, 4);
  EXPECT_EQ(v.dst.family, 4);
  EXPECT_EQ(Bytes(v.src.bytes, v.src.bytes + 4), (Bytes{192, 0, 2, 1}));
  EXPECT_EQ(Bytes(v.dst.bytes, v.dst.bytes + 4), (Bytes{239, 1, 2, 3}));
  EXPECT_EQ(v.src_port, 5000);
  EXPECT_EQ(v.dst_port, 1234);
  expect_payload(f, v, 12);
}

TEST(ParseFrame, SingleVlan) {
  const Bytes f = v4_frame({{0x8100, 0xA07B}});
  PacketView v;
  ASSERT_EQ(parse_frame(f, v), Status::ok);
  EXPECT_EQ(v.vlan_count, 1);
  EXPECT_EQ(v.vlan_tci[0], 0xA07B);
  EXPECT_EQ(v.l3_offset, 18);
  EXPECT_EQ(v.l4_offset, 38);
  expect_payload(f, v, 12);
}

TEST(ParseFrame, QinQ) {
  const Bytes f = v4_frame({{0x88A8, 0x0064}, {0x8100, 0x00C8}});
  PacketView v;
  ASSERT_EQ(parse_frame(f, v), Status::ok);
  EXPECT_EQ(v.vlan_count, 2);
  EXPECT_EQ(v.vlan_tci[0], 0x0064);
  EXPECT_EQ(v.vlan_tci[1], 0x00C8);
  EXPECT_EQ(v.l3_offset, 22);
  EXPECT_EQ(v.l4_offset, 42);
  expect_payload(f, v, 12);
}

TEST(ParseFrame, DoubleCustomerTagAccepted) {
  PacketView v;
  ASSERT_EQ(parse_frame(v4_frame({{0x8100, 1}, {0x8100, 2}}), v), Status::ok);
  EXPECT_EQ(v.vlan_count, 2);
}

TEST(ParseFrame, ThreeTags) {
  EXPECT_EQ(parse(v4_frame({{0x88A8, 1}, {0x8100, 2}, {0x8100, 3}})), Status::vlan_too_many);
  EXPECT_EQ(parse(v4_frame({{0x8100, 1}, {0x8100, 2}, {0x8100, 3}})), Status::vlan_too_many);
  EXPECT_EQ(parse(v4_frame({{0x8100, 1}, {0x8100, 2}, {0x88A8, 3}})), Status::vlan_too_many);
}

TEST(ParseFrame, ServiceTagOnlyOutermost) {
  EXPECT_EQ(parse(v4_frame({{0x8100, 1}, {0x88A8, 2}})), Status::not_ip);
}

TEST(ParseFrame, EthernetTruncated) {
  for (std::size_t n = 0; n < 14; ++n) EXPECT_EQ(parse(Bytes(n, 0)), Status::eth_truncated) << n;
}

TEST(ParseFrame, VlanTruncated) {
  Bytes f = v4_frame({{0x8100, 7}});
  EXPECT_EQ(parse(Bytes(f.begin(), f.begin() + 14)), Status::vlan_truncated);
  EXPECT_EQ(parse(Bytes(f.begin(), f.begin() + 17)), Status::vlan_truncated);
  f = v4_frame({{0x88A8, 7}, {0x8100, 8}});
  EXPECT_EQ(parse(Bytes(f.begin(), f.begin() + 21)), Status::vlan_truncated);
}

TEST(ParseFrame, NotIp) {
  EXPECT_EQ(parse(eth(Bytes(28, 0), 0x0806)), Status::not_ip);  // ARP
  EXPECT_EQ(parse(eth(Bytes(28, 0), 0x0806, {{0x8100, 5}})), Status::not_ip);
  EXPECT_EQ(parse(eth(Bytes(28, 0), 0x9100)), Status::not_ip);
}

TEST(ParseFrame, EthernetPaddingAfterDatagram) {
  const Bytes f = eth(ipv4(udp(1, 2, payload_of(3))), kEtherTypeIpv4, {}, 60);
  ASSERT_EQ(f.size(), 60u);
  PacketView v;
  ASSERT_EQ(parse_frame(f, v), Status::ok);
  EXPECT_EQ(v.payload_offset, 42);
  expect_payload(f, v, 3);

  const Bytes g = eth(ipv6(udp(1, 2, payload_of(3))), kEtherTypeIpv6, {}, 100);
  ASSERT_EQ(parse_frame(g, v), Status::ok);
  EXPECT_EQ(v.payload_offset, 62);
  expect_payload(g, v, 3);
}

TEST(ParseFrame, EmptyUdpPayload) {
  PacketView v;
  ASSERT_EQ(parse_frame(eth(ipv4(udp(1, 2, {})), kEtherTypeIpv4), v), Status::ok);
  EXPECT_EQ(v.payload_len, 0);
  EXPECT_EQ(v.payload_offset, 42);
}

// The view is filled in place (valid only on ok): one reused after an error
// keeps nothing of that frame.
TEST(ParseFrame, ViewReusedAfterAnErrorKeepsNothingOfIt) {
  PacketView v;
  ASSERT_NE(parse_frame(v4_frame({{0x8100, 1}, {0x8100, 2}, {0x8100, 3}}), v), Status::ok);
  ASSERT_EQ(parse_frame(v4_frame({}), v), Status::ok);
  EXPECT_EQ(v.vlan_count, 0);
  EXPECT_EQ(v.vlan_tci[0], 0);
  EXPECT_EQ(v.payload_offset, 42);
}

// ---------------------------------------------------------------- IPv4

TEST(ParseFrameIpv4, Options) {
  for (std::size_t words = 1; words <= 10; ++words) {
    V4Opts o;
    o.options = Bytes(words * 4, 0x01);  // NOPs
    const Bytes f = eth(ipv4(udp(7, 8, payload_of(5)), o), kEtherTypeIpv4, {{0x8100, 3}});
    PacketView v;
    ASSERT_EQ(parse_frame(f, v), Status::ok) << words;
    EXPECT_EQ(v.l3_offset, 18);
    EXPECT_EQ(v.l4_offset, 18 + 20 + words * 4);
    EXPECT_EQ(v.payload_offset, 18 + 28 + words * 4);
    expect_payload(f, v, 5);
  }
}

TEST(ParseFrameIpv4, BadVersion) {
  for (std::uint8_t ver : List<std::uint8_t>{0, 5, 6, 15}) {
    Bytes f = v4_frame();
    f[kEth] = static_cast<std::uint8_t>((ver << 4) | 5);
    set_ipv4_checksum(f.data() + kEth);
    EXPECT_EQ(parse(f), Status::ipv4_bad_version) << int{ver};
  }
}

TEST(ParseFrameIpv4, IhlBelowFive) {
  for (std::uint8_t ihl = 0; ihl < 5; ++ihl) {
    Bytes f = v4_frame();
    f[kEth] = static_cast<std::uint8_t>(0x40 | ihl);
    EXPECT_EQ(parse(f), Status::ipv4_bad_ihl) << int{ihl};
  }
}

TEST(ParseFrameIpv4, IhlBeyondFrame) {
  // A 20-byte IPv4 header that claims 60 at the very end of the frame.
  Bytes f = eth(ipv4({}, {}), kEtherTypeIpv4);
  f[kEth] = 0x4F;
  EXPECT_EQ(parse(f), Status::ipv4_truncated);
}

TEST(ParseFrameIpv4, TotalLengthBelowIhl) {
  V4Opts o;
  o.options = Bytes(8, 1);
  for (std::uint16_t total : List<std::uint16_t>{0, 19, 20, 27}) {
    Bytes f = eth(ipv4(udp(1, 2, payload_of(4)), o), kEtherTypeIpv4);
    put16(f, kEth + 2, total);
    set_ipv4_checksum(f.data() + kEth);
    EXPECT_EQ(parse(f), Status::ipv4_bad_total_length) << total;
  }
}

TEST(ParseFrameIpv4, TotalLengthBeyondFrame) {
  Bytes f = v4_frame();
  const auto total = static_cast<std::uint16_t>(f.size() - kEth + 1);
  put16(f, kEth + 2, total);
  set_ipv4_checksum(f.data() + kEth);
  EXPECT_EQ(parse(f), Status::ipv4_bad_total_length);
  put16(f, kEth + 2, 0xFFFF);
  set_ipv4_checksum(f.data() + kEth);
  EXPECT_EQ(parse(f), Status::ipv4_bad_total_length);
}

TEST(ParseFrameIpv4, TotalLengthShorterThanFrameShrinksUdp) {
  // Total length below the bytes present: the rest is padding, so the UDP
  // length no longer matches.
  Bytes f = v4_frame();
  put16(f, kEth + 2, static_cast<std::uint16_t>(f.size() - kEth - 1));
  set_ipv4_checksum(f.data() + kEth);
  EXPECT_EQ(parse(f), Status::udp_bad_length);
}

TEST(ParseFrameIpv4, BadChecksum) {
  Bytes f = v4_frame();
  f[kEth + 10] ^= 0x01;
  EXPECT_EQ(parse(f), Status::ipv4_bad_checksum);
  f = v4_frame();
  f[kEth + 8] = 1;  // TTL changed without updating the checksum
  EXPECT_EQ(parse(f), Status::ipv4_bad_checksum);
}

TEST(ParseFrameIpv4, Fragments) {
  const std::uint16_t frags[] = {0x2000, 0x0001, 0x2001, 0x1FFF, 0x6000, 0x4001, 0x3FFF};
  for (std::uint16_t frag : frags) {
    V4Opts o;
    o.frag = frag;
    EXPECT_EQ(parse(eth(ipv4(udp(1, 2, payload_of(8)), o), kEtherTypeIpv4)), Status::ipv4_fragment)
        << frag;
    o.proto = 6;  // a fragment is reported as such whatever it carries
    EXPECT_EQ(parse(eth(ipv4(Bytes(20, 0), o), kEtherTypeIpv4)), Status::ipv4_fragment) << frag;
  }
}

TEST(ParseFrameIpv4, NotFragments) {
  for (std::uint16_t frag : List<std::uint16_t>{0x0000, 0x4000}) {
    V4Opts o;
    o.frag = frag;
    EXPECT_EQ(parse(eth(ipv4(udp(1, 2, payload_of(8)), o), kEtherTypeIpv4)), Status::ok) << frag;
  }
}

TEST(ParseFrameIpv4, NotUdp) {
  for (std::uint8_t proto : List<std::uint8_t>{1, 6, 50, 51, 132, 255}) {
    V4Opts o;
    o.proto = proto;
    EXPECT_EQ(parse(eth(ipv4(Bytes(20, 0), o), kEtherTypeIpv4)), Status::not_udp) << int{proto};
  }
}

TEST(ParseFrameIpv4, UdpTruncated) {
  for (std::size_t n = 0; n < 8; ++n) {
    EXPECT_EQ(parse(eth(ipv4(Bytes(n, 0)), kEtherTypeIpv4)), Status::udp_truncated) << n;
  }
}

TEST(ParseFrameIpv4, UdpBadLength) {
  for (std::uint16_t len : List<std::uint16_t>{0, 7, 8, 19, 21, 0xFFFF}) {
    Bytes f = v4_frame();  // UDP length 20
    put16(f, kEth + 20 + 4, len);
    EXPECT_EQ(parse(f), Status::udp_bad_length) << len;
  }
}

TEST(ParseFrameIpv4, UdpLengthUsesTotalLengthNotFrame) {
  // UDP length matching the padded frame but not the IP total length.
  Bytes f = eth(ipv4(udp(1, 2, payload_of(2))), kEtherTypeIpv4, {}, 60);
  put16(f, kEth + 20 + 4, static_cast<std::uint16_t>(60 - kEth - 20));
  EXPECT_EQ(parse(f), Status::udp_bad_length);
}

// ---------------------------------------------------------------- IPv6

TEST(ParseFrameIpv6, Plain) {
  const Bytes f = v6_frame();
  PacketView v;
  ASSERT_EQ(parse_frame(f, v), Status::ok);
  EXPECT_EQ(v.ip_version, 6);
  EXPECT_EQ(v.ttl, 33);
  EXPECT_EQ(v.l3_offset, 14);
  EXPECT_EQ(v.l4_offset, 54);
  EXPECT_EQ(v.payload_offset, 62);
  EXPECT_EQ(v.src.family, 6);
  EXPECT_EQ(v.src.bytes[0], 0x20);
  EXPECT_EQ(v.src.bytes[15], 0x01);
  EXPECT_EQ(v.dst.bytes[0], 0xff);
  EXPECT_EQ(v.dst.bytes[15], 0x34);
  EXPECT_EQ(v.src_port, 5000);
  EXPECT_EQ(v.dst_port, 1234);
  expect_payload(f, v, 12);
}

TEST(ParseFrameIpv6, HopByHopAndDestOpts) {
  const Bytes f = v6_frame({{0, 0}, {60, 2}});
  PacketView v;
  ASSERT_EQ(parse_frame(f, v), Status::ok);
  EXPECT_EQ(v.l4_offset, 14 + 40 + 8 + 24);
  expect_payload(f, v, 12);
}

TEST(ParseFrameIpv6, RoutingAndVlan) {
  const Bytes f = eth(ipv6(udp(9, 10, payload_of(7)), {{43, 1}, {60, 0}}), kEtherTypeIpv6,
                      {{0x88A8, 1}, {0x8100, 2}});
  PacketView v;
  ASSERT_EQ(parse_frame(f, v), Status::ok);
  EXPECT_EQ(v.l3_offset, 22);
  EXPECT_EQ(v.l4_offset, 22 + 40 + 16 + 8);
  expect_payload(f, v, 7);
}

TEST(ParseFrameIpv6, LargestExtensionHeader) {
  const Bytes f = v6_frame({{60, 255}});
  PacketView v;
  ASSERT_EQ(parse_frame(f, v), Status::ok);
  EXPECT_EQ(v.l4_offset, 14 + 40 + 2048);
}

TEST(ParseFrameIpv6, FragmentHeader) {
  EXPECT_EQ(parse(v6_frame({{44, 0}})), Status::ipv6_fragment);
  EXPECT_EQ(parse(v6_frame({{0, 0}, {44, 0}})), Status::ipv6_fragment);
  EXPECT_EQ(parse(v6_frame({{0, 0}, {60, 0}, {43, 0}, {44, 0}})), Status::ipv6_fragment);
  // Fragment header cut short is still a fragment.
  Bytes f = eth(ipv6({}, {}, 44), kEtherTypeIpv6);
  f.resize(f.size() + 2, 0);
  put16(f, kEth + 4, 2);
  EXPECT_EQ(parse(f), Status::ipv6_fragment);
}

TEST(ParseFrameIpv6, TruncatedExtensionHeader) {
  // Length byte claims more than the payload length holds.
  Bytes f = v6_frame({{0, 0}});
  f[kEth + 40 + 1] = 3;  // 32 bytes, only 8 + 20 follow
  EXPECT_EQ(parse(f), Status::ipv6_bad_ext_header);
  // Payload ends right after the next-header byte.
  f = eth(ipv6({}, {}, 60), kEtherTypeIpv6);
  f.push_back(17);
  put16(f, kEth + 4, 1);
  EXPECT_EQ(parse(f), Status::ipv6_bad_ext_header);
  // Extension header longer than the payload length though the frame has more.
  f = v6_frame({{60, 0}});
  put16(f, kEth + 4, 6);
  EXPECT_EQ(parse(f), Status::ipv6_bad_ext_header);
}

TEST(ParseFrameIpv6, ExtensionHeaderLimit) {
  const Exts eight(8, {60, 0});
  EXPECT_EQ(parse(v6_frame(eight)), Status::ok);
  const Exts nine(9, {60, 0});
  EXPECT_EQ(parse(v6_frame(nine)), Status::ipv6_bad_ext_header);
}

TEST(ParseFrameIpv6, HopByHopNotFirst) {
  EXPECT_EQ(parse(v6_frame({{60, 0}, {0, 0}})), Status::ipv6_bad_ext_header);
}

TEST(ParseFrameIpv6, NotUdp) {
  for (std::uint8_t proto : List<std::uint8_t>{6, 50, 51, 58, 59, 135}) {
    EXPECT_EQ(parse(eth(ipv6(Bytes(20, 0), {}, proto), kEtherTypeIpv6)), Status::not_udp)
        << int{proto};
    EXPECT_EQ(parse(eth(ipv6(Bytes(20, 0), {{0, 0}, {60, 1}}, proto), kEtherTypeIpv6)),
              Status::not_udp)
        << int{proto};
  }
}

TEST(ParseFrameIpv6, BadVersion) {
  Bytes f = v6_frame();
  f[kEth] = 0x40;
  EXPECT_EQ(parse(f), Status::ipv6_bad_version);
}

TEST(ParseFrameIpv6, PayloadLength) {
  Bytes f = v6_frame();
  put16(f, kEth + 4, 0);  // jumbogram
  EXPECT_EQ(parse(f), Status::ipv6_bad_payload_length);
  put16(f, kEth + 4, static_cast<std::uint16_t>(f.size() - kEth - 40 + 1));
  EXPECT_EQ(parse(f), Status::ipv6_bad_payload_length);
  put16(f, kEth + 4, 0xFFFF);
  EXPECT_EQ(parse(f), Status::ipv6_bad_payload_length);
}

TEST(ParseFrameIpv6, UdpTruncatedAndBadLength) {
  for (std::size_t n = 0; n < 8; ++n) {
    EXPECT_EQ(parse(eth(ipv6(Bytes(n, 0), {{0, 0}}), kEtherTypeIpv6)), Status::udp_truncated) << n;
  }
  for (std::uint16_t len : List<std::uint16_t>{0, 7, 19, 21}) {
    Bytes f = v6_frame({{60, 0}});  // UDP length 20
    put16(f, kEth + 48 + 4, len);
    EXPECT_EQ(parse(f), Status::udp_bad_length) << len;
  }
}

// ---------------------------------------------------------------- parse_ip

TEST(ParseIp, Ipv4AndIpv6) {
  V4Opts o;
  o.options = Bytes(4, 1);
  const Bytes p4 = ipv4(udp(11, 12, payload_of(9)), o);
  PacketView v;
  ASSERT_EQ(parse_ip(p4, v), Status::ok);
  EXPECT_EQ(v.vlan_count, 0);
  EXPECT_EQ(v.l3_offset, 0);
  EXPECT_EQ(v.l4_offset, 24);
  EXPECT_EQ(v.src_port, 11);
  expect_payload(p4, v, 9);

  const Bytes p6 = ipv6(udp(13, 14, payload_of(9)), {{0, 0}});
  ASSERT_EQ(parse_ip(p6, v), Status::ok);
  EXPECT_EQ(v.ip_version, 6);
  EXPECT_EQ(v.l3_offset, 0);
  EXPECT_EQ(v.l4_offset, 48);
  EXPECT_EQ(v.dst_port, 14);
  expect_payload(p6, v, 9);
}

TEST(ParseIp, Errors) {
  EXPECT_EQ(parse_l3({}), Status::ipv4_truncated);
  EXPECT_EQ(parse_l3({0x50, 0, 0, 0}), Status::not_ip);
  EXPECT_EQ(parse_l3({0x00}), Status::not_ip);
  EXPECT_EQ(parse_l3({0x45}), Status::ipv4_truncated);
  EXPECT_EQ(parse_l3({0x60}), Status::ipv6_truncated);
  V4Opts o;
  o.frag = 0x2000;
  EXPECT_EQ(parse_l3(ipv4(udp(1, 2, {}), o)), Status::ipv4_fragment);
  EXPECT_EQ(parse_l3(ipv6(udp(1, 2, {}), {{44, 0}})), Status::ipv6_fragment);
}

// ---------------------------------------------------------------- truncations

// Each strict prefix, copied to a buffer of exactly its size so that ASan or
// valgrind catch any read past the end.
void expect_every_prefix_fails(const Bytes& f, bool with_l2) {
  PacketView v;
  const Status whole = with_l2 ? parse_frame(f, v) : parse_ip(f, v);
  ASSERT_EQ(whole, Status::ok);
  for (std::size_t n = 0; n < f.size(); ++n) {
    const Bytes prefix(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(n));
    const Status s = with_l2 ? parse_frame(prefix, v) : parse_ip(prefix, v);
    EXPECT_NE(s, Status::ok) << "prefix of " << n << " bytes";
  }
}

TEST(Truncation, EveryPrefixFails) {
  V4Opts o;
  o.options = Bytes(12, 1);
  const Bytes frames[] = {
      v4_frame(),
      v4_frame({{0x8100, 1}}),
      v4_frame({{0x88A8, 1}, {0x8100, 2}}),
      eth(ipv4(udp(1, 2, payload_of(3)), o), kEtherTypeIpv4, {{0x8100, 9}}),
      v6_frame(),
      v6_frame({{0, 0}, {43, 1}, {60, 2}}),
      eth(ipv6(udp(1, 2, {}), {{0, 0}}), kEtherTypeIpv6, {{0x88A8, 1}, {0x8100, 2}}),
  };
  for (const Bytes& f : frames) expect_every_prefix_fails(f, true);
  for (const Bytes& f : frames) {
    // The same datagrams without their Ethernet header, through parse_ip.
    PacketView v;
    ASSERT_EQ(parse_frame(f, v), Status::ok);
    expect_every_prefix_fails(Bytes(f.begin() + v.l3_offset, f.end()), false);
  }
}

}  // namespace
}  // namespace pktparse
