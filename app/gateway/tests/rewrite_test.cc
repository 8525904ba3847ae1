// rewrite_headers (rewrite.cc alone): the L2-L4 rewrite for the output group,
// with the UDP checksum computed here or left to the output port, whose TX
// offload wants the pseudo-header's sum in the field as DPDK computes it.
#include <gtest/gtest.h>
#include <rte_ip.h>

#include <cstring>
#include <vector>

#include "frames.h"
#include "pktparse/bytes.h"
#include "pktparse/checksum.h"
#include "pktparse/net.h"
#include "rewrite.h"

namespace gateway::test {
namespace {

pktparse::IpAddr addr(std::uint8_t family, std::initializer_list<std::uint8_t> bytes) {
  pktparse::IpAddr a;
  a.family = family;
  std::copy(bytes.begin(), bytes.end(), a.bytes);
  return a;
}

struct Case {
  const char* name;
  UdpSpec spec;
  pktparse::IpAddr out;
};

std::vector<Case> cases() {
  UdpSpec v4;
  v4.src = addr(4, {10, 0, 0, 1});
  v4.dst = addr(4, {239, 1, 1, 2});
  UdpSpec v4_vlan = v4;
  v4_vlan.vlan = 100;
  UdpSpec v6;
  v6.src = addr(6, {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  v6.dst = addr(6, {0xff, 0x3e, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 5});
  return {{"IPv4", v4, addr(4, {239, 2, 1, 2})},
          {"IPv4 VLAN", v4_vlan, addr(4, {239, 2, 1, 2})},
          {"IPv6", v6, addr(6, {0xff, 0x3e, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 5})}};
}

// A channel out to `out`, port 6000, TTL 9.
Channel output_channel(const pktparse::IpAddr& out) {
  Channel c;
  c.out_addr = out;
  c.out_port = 6000;
  c.ttl = 9;
  multicast_mac(out, c.out_mac);
  return c;
}
constexpr std::uint8_t kSrcMac[6] = {2, 0, 0, 0, 0, 1};

// The payload's sum as scramble() hands it over: native order (these tests
// run on little-endian x86), here from the payload itself.
std::uint64_t native_sum(const std::vector<std::uint8_t>& payload) {
  return __builtin_bswap16(pktparse::fold(pktparse::ones_sum(payload)));
}

TEST(Rewrite, UdpChecksumHereFromThePayloadsSumOrThePseudoHeaderSumForThePort) {
  for (const Case& k : cases()) {
    for (std::size_t len : {0, 1, 100, 1316, 1317}) {
      const std::vector<std::uint8_t> payload = raw_payload(len, static_cast<std::uint32_t>(len));
      const Channel c = output_channel(k.out);
      const pktparse::PayloadSum payload_sum{native_sum(payload), true};
      for (const int how : {0, 1, 2}) {  // computed here; from the payload's known sum; by the port
        const bool by_port = how == 2;
        Frame f = udp_frame(k.spec, payload);
        pktparse::PacketView v;
        ASSERT_EQ(pktparse::parse_frame(f, v), pktparse::Status::ok) << k.name;
        const UdpChecksumSource source{by_port, 8, how == 1 ? payload_sum : pktparse::PayloadSum{}};
        ASSERT_TRUE(rewrite_headers(f.data(), v, c, kSrcMac, len, source)) << k.name;
        pktparse::PacketView out;
        ASSERT_EQ(pktparse::parse_frame(f, out), pktparse::Status::ok) << k.name << " " << len;  // IPv4 sum checked there
        EXPECT_EQ(out.dst_port, 6000);
        EXPECT_EQ(out.ttl, 9);
        EXPECT_EQ(std::memcmp(out.dst.bytes, k.out.bytes, 16), 0);
        const std::uint8_t* ip = f.data() + out.l3_offset;
        std::uint8_t* udp = f.data() + out.l4_offset;
        if (!by_port) {
          EXPECT_TRUE(pktparse::udp_checksum_ok(ip, udp)) << k.name << " " << len;
          continue;
        }
        // What DPDK's drivers expect in the field with RTE_MBUF_F_TX_UDP_CKSUM.
        const std::uint16_t phdr = out.ip_version == 4
                                       ? rte_ipv4_phdr_cksum(reinterpret_cast<const rte_ipv4_hdr*>(ip), 0)
                                       : rte_ipv6_phdr_cksum(reinterpret_cast<const rte_ipv6_hdr*>(ip), 0);
        std::uint16_t field;
        std::memcpy(&field, udp + 6, 2);
        EXPECT_EQ(field, phdr) << k.name << " " << len;
        // And the port's completion (sum the UDP header and payload with it,
        // invert) gives the checksum.
        const auto completed = static_cast<std::uint16_t>(~pktparse::fold(pktparse::ones_sum({udp, 8 + len})));
        pktparse::store_be16(udp + 6, completed == 0 ? 0xFFFF : completed);
        EXPECT_TRUE(pktparse::udp_checksum_ok(ip, udp)) << k.name << " " << len;
      }
    }
  }
}

// A known payload sum stands for the payload: the payload is not read again,
// so a sum one off gives a checksum that fails (the test above passes as
// well if the payload were summed anyway).
TEST(Rewrite, AKnownPayloadSumIsUsedNotTheBytes) {
  for (const Case& k : cases()) {
    const std::vector<std::uint8_t> payload = raw_payload(1316, 1316);
    Frame f = udp_frame(k.spec, payload);
    pktparse::PacketView v;
    ASSERT_EQ(pktparse::parse_frame(f, v), pktparse::Status::ok) << k.name;
    const UdpChecksumSource off_by_one{false, 8, {native_sum(payload) + 1, true}};
    ASSERT_TRUE(rewrite_headers(f.data(), v, output_channel(k.out), kSrcMac, payload.size(), off_by_one)) << k.name;
    EXPECT_FALSE(pktparse::udp_checksum_ok(f.data() + v.l3_offset, f.data() + v.l4_offset)) << k.name;
  }
}

}  // namespace
}  // namespace gateway::test
