// The configured channels as the worker needs them, and the lookup of a
// datagram's channel by (destination group, UDP port): open addressing in a
// small power-of-two table, built once at start, read-only afterwards.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "config/gateway_config.h"
#include "pktparse/keycast_header.h"
#include "pktparse/net.h"
#include "pktparse/scramble.h"

namespace gateway {

inline constexpr std::size_t kMaxChannels = 64;
inline constexpr std::uint32_t kMaxHoldDatagrams = 4096;

struct Channel {
  std::uint32_t id = 0;
  std::uint16_t index = 0;  // dense, 0..n-1: key table slot and worker state
  pktparse::IpAddr in_addr;
  std::uint16_t in_port = 0;
  pktparse::IpAddr out_addr;
  std::uint16_t out_port = 0;
  std::uint8_t out_mac[6] = {};  // the output group's multicast MAC
  std::uint8_t ttl = 16;
  bool udp_checksum = true;  // false: IPv4 UDP checksum 0
  pktparse::Suite suite = pktparse::Suite::aes128_ctr;
  pktparse::ChannelRules rules;
  pktparse::KcHeader hdr;         // channel_id and the configured TLVs set
  std::uint16_t hdr_len = 0;      // header_len(hdr): the same for every DATA datagram
  std::uint16_t trailer_len = 0;  // GCM tag
  std::uint64_t notice_interval_ms = 100;
  std::uint32_t hold_datagrams = 64;  // descramble: hold queue size
  std::uint32_t hold_ms = 50;
};

// 01:00:5e + low 23 bits (IPv4), 33:33 + low 32 bits (IPv6).
void multicast_mac(const pktparse::IpAddr& group, std::uint8_t mac[6]) noexcept;

class ChannelTable {
 public:
  // Throws std::runtime_error naming the channel when one cannot be served.
  explicit ChannelTable(const GatewayConfig& config);

  const Channel* find(const pktparse::IpAddr& dst, std::uint16_t port) const noexcept {
    const std::uint32_t tag = tail(dst);
    for (std::size_t i = hash(tag, port);; i = (i + 1) & (kSlots - 1)) {
      const Slot& s = slots_[i];
      if (s.index1 == 0) return nullptr;
      if (s.tag == tag && s.port == port && s.family == dst.family) {
        const Channel& c = channels_[s.index1 - 1u];
        if (dst.family == 4 || same_v6(c.in_addr, dst)) return &c;
      }
    }
  }
  std::span<const Channel> channels() const noexcept { return channels_; }
  std::size_t size() const noexcept { return channels_.size(); }

 private:
  static constexpr std::size_t kSlots = 256;  // > 2 x kMaxChannels: never full
  struct Slot {
    std::uint32_t tag = 0;  // the address's last 4 bytes
    std::uint16_t port = 0;
    std::uint8_t family = 0;
    std::uint8_t index1 = 0;  // channel index + 1; 0 = empty
  };
  static std::uint32_t tail(const pktparse::IpAddr& a) noexcept;
  static std::size_t hash(std::uint32_t tag, std::uint16_t port) noexcept {
    return ((tag ^ (std::uint32_t{port} << 7)) * 2654435761u) >> 24 & (kSlots - 1);
  }
  static bool same_v6(const pktparse::IpAddr& a, const pktparse::IpAddr& b) noexcept;

  std::vector<Channel> channels_;
  std::array<Slot, kSlots> slots_{};
};

}  // namespace gateway
