// The mbuf pool and the ports: each input port with as many RX queues as
// there are workers (or as it offers), the output port with one TX queue per
// worker; started and stopped together. Which worker polls which RX queue is
// decided here too (assign_rx_queues), and the links are watched (LinkWatch).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/gateway_config.h"

struct rte_mempool;

namespace gateway {

struct RxQueue {
  std::uint16_t port = 0;
  std::uint16_t queue = 0;
};

// Throws std::runtime_error saying what DPDK refused.
rte_mempool* create_pool(const PortConfig& ports);

class Ports {
 public:
  // Configures and starts for up to max_workers workers (fewer when the
  // input ports offer fewer RX queues, or the output port fewer TX queues); throws std::runtime_error naming the
  // port and what it refused.
  Ports(const PortConfig& config, unsigned max_workers, rte_mempool* pool);
  ~Ports();  // stops and closes (net_pcap writes its file out on close)
  Ports(const Ports&) = delete;
  Ports& operator=(const Ports&) = delete;

  unsigned workers() const noexcept { return workers_; }
  // Every input RX queue, port by port.
  const std::vector<RxQueue>& rx_queues() const noexcept { return rx_; }
  std::uint16_t output_mtu() const noexcept { return mtu_; }
  const std::uint8_t* output_mac() const noexcept { return mac_; }
  // The output port computes UDP checksums (ports.udp_checksum_offload and
  // the port offers RTE_ETH_TX_OFFLOAD_UDP_CKSUM).
  bool udp_checksum_offload() const noexcept { return udp_checksum_offload_; }
  // The input ports that check UDP checksums (ports.udp_checksum_offload and
  // the port offers RTE_ETH_RX_OFFLOAD_UDP_CKSUM): a datagram one finds wrong
  // carries RTE_MBUF_F_RX_L4_CKSUM_BAD.
  const std::vector<std::uint16_t>& udp_checksum_checked() const noexcept { return udp_checksum_checked_; }

 private:
  void close_all() noexcept;

  std::vector<std::uint16_t> started_;
  std::vector<std::uint16_t> udp_checksum_checked_;
  std::vector<RxQueue> rx_;
  unsigned workers_ = 0;
  std::uint16_t mtu_ = 1500;
  bool udp_checksum_offload_ = false;
  std::uint8_t mac_[6] = {};
};

// The link of each started port, polled by the control thread (never a
// worker): the PMD's link status (rte_eth_link_get_nowait) and, for a port on
// a kernel interface (dev_info.if_index: af_packet, tap), that interface's
// IFF_RUNNING (up and carrier), which DPDK 22.11's af_packet never reports.
// While a link is down, what the PMD cannot send is dropped and counted
// (tx_dropped, the port's oerrors); af_packet sends the frames still in its
// ring once the link is back.
class LinkWatch {
 public:
  struct Change {
    std::uint16_t port = 0;
    bool up = false;
  };
  explicit LinkWatch(const std::vector<std::uint16_t>& ports);
  ~LinkWatch();
  LinkWatch(const LinkWatch&) = delete;
  LinkWatch& operator=(const LinkWatch&) = delete;

  // Links that went down or came up since the last poll (the first poll:
  // those down at start), each change once.
  std::vector<Change> poll();

 private:
  struct Link {
    std::uint16_t port = 0;
    std::string kernel_name;  // empty: no kernel interface behind the port
    bool up = true;
  };
  bool is_up(const Link& l) const;

  std::vector<Link> links_;
  int ioctl_fd_ = -1;
};

// Deals the RX queues out to `workers` workers in turn, so that with one
// queue per port each worker gets a port, and with several queues on one
// port each worker gets a queue. Workers beyond the number of queues get none.
std::vector<std::vector<RxQueue>> assign_rx_queues(const std::vector<RxQueue>& queues, unsigned workers);

}  // namespace gateway
