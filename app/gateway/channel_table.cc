// Building the channel table from the configuration.
#include "channel_table.h"

#include <arpa/inet.h>

#include <cstring>
#include <stdexcept>

namespace gateway {

void multicast_mac(const pktparse::IpAddr& group, std::uint8_t mac[6]) noexcept {
  if (group.family == 4) {
    const std::uint8_t m[6] = {0x01, 0x00, 0x5e, static_cast<std::uint8_t>(group.bytes[1] & 0x7f), group.bytes[2],
                               group.bytes[3]};
    std::memcpy(mac, m, 6);
  } else {
    const std::uint8_t m[6] = {0x33, 0x33, group.bytes[12], group.bytes[13], group.bytes[14], group.bytes[15]};
    std::memcpy(mac, m, 6);
  }
}

std::uint32_t ChannelTable::tail(const pktparse::IpAddr& a) noexcept {
  std::uint32_t t;
  std::memcpy(&t, a.family == 4 ? a.bytes : a.bytes + 12, 4);
  return t;
}

bool ChannelTable::same_v6(const pktparse::IpAddr& a, const pktparse::IpAddr& b) noexcept {
  return std::memcmp(a.bytes, b.bytes, 16) == 0;
}

namespace {

// KEYMGR_ADDR4/6 from the first endpoint (an IP literal).
void set_keymgr_tlv(const KeySource& keys, pktparse::KcHeader& hdr, std::uint32_t channel_id) {
  if (keys.endpoints.empty())
    throw std::runtime_error("channel " + std::to_string(channel_id) + ": tlv_keymgr_addr needs a key manager endpoint");
  const Endpoint& e = keys.endpoints.front();
  pktparse::KeymgrAddr a;
  a.port = e.port;
  if (::inet_pton(AF_INET, e.host.c_str(), a.addr) == 1) {
    hdr.keymgr4 = a;
    hdr.set(pktparse::TlvType::keymgr_addr4);
  } else if (::inet_pton(AF_INET6, e.host.c_str(), a.addr) == 1) {
    hdr.keymgr6 = a;
    hdr.set(pktparse::TlvType::keymgr_addr6);
  } else {
    throw std::runtime_error("channel " + std::to_string(channel_id) + ": key manager host " + e.host +
                             " is not an IP literal (needed for KEYMGR_ADDR)");
  }
}

}  // namespace

ChannelTable::ChannelTable(const GatewayConfig& config) {
  if (config.channels.size() > kMaxChannels)
    throw std::runtime_error("at most " + std::to_string(kMaxChannels) + " channels per gateway");
  channels_.reserve(config.channels.size());
  for (const ChannelConfig& cc : config.channels) {
    const std::string name = "channel " + std::to_string(cc.id);
    if (cc.input.addr.family != cc.output.addr.family)
      throw std::runtime_error(name + ": input and output groups must be of one IP version");
    Channel c;
    c.id = cc.id;
    c.index = static_cast<std::uint16_t>(channels_.size());
    c.in_addr = cc.input.addr;
    c.in_port = cc.input.port;
    c.out_addr = cc.output.addr;
    c.out_port = cc.output.port;
    multicast_mac(c.out_addr, c.out_mac);
    c.ttl = cc.ttl;
    c.udp_checksum = cc.udp_checksum || cc.output.addr.family == 6;
    c.suite = cc.suite;
    c.rules.ts = cc.payload == PayloadKind::ts || cc.payload == PayloadKind::rtp_ts;
    c.rules.rtp = cc.payload == PayloadKind::rtp || cc.payload == PayloadKind::rtp_ts;
    for (const std::uint16_t pid : cc.clear_pids) c.rules.clear_pids.add(pid);
    c.hdr.channel_id = cc.id;
    c.hdr.suite = cc.suite;
    if (cc.tlv_key_remaining) c.hdr.set(pktparse::TlvType::key_remaining_ms);
    if (cc.tlv_keymgr_addr) set_keymgr_tlv(config.keys, c.hdr, cc.id);
    c.hdr_len = pktparse::header_len(c.hdr);
    c.hdr.hdr_len = c.hdr_len;
    c.trailer_len = static_cast<std::uint16_t>(pktparse::suite_trailer_len(cc.suite));
    c.notice_interval_ms = cc.notice_interval_ms ? cc.notice_interval_ms : 100;
    if (cc.hold_datagrams > kMaxHoldDatagrams)
      throw std::runtime_error(name + ": hold_datagrams is at most " + std::to_string(kMaxHoldDatagrams));
    c.hold_datagrams = cc.hold_datagrams ? cc.hold_datagrams : 1;
    c.hold_ms = cc.hold_ms;
    if (find(c.in_addr, c.in_port))
      throw std::runtime_error(name + ": another channel has the same input group and port");
    channels_.push_back(c);

    const std::uint32_t tag = tail(c.in_addr);
    std::size_t i = hash(tag, c.in_port);
    while (slots_[i].index1 != 0) i = (i + 1) & (kSlots - 1);
    slots_[i] = Slot{tag, c.in_port, c.in_addr.family, static_cast<std::uint8_t>(c.index + 1)};
  }
}

}  // namespace gateway
