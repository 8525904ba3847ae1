// The mbuf pool and the input/output ports: one RX and one TX queue per
// worker on each port, started and stopped together.
#pragma once

#include <cstdint>
#include <vector>

#include "config/gateway_config.h"

struct rte_mempool;

namespace gateway {

// Throws std::runtime_error saying what DPDK refused.
rte_mempool* create_pool(const PortConfig& ports, unsigned workers);

class Ports {
 public:
  Ports(const PortConfig& config, unsigned workers, rte_mempool* pool);  // configures and starts; throws
  ~Ports();  // stops and closes (net_pcap writes its file out on close)
  Ports(const Ports&) = delete;
  Ports& operator=(const Ports&) = delete;

  std::uint16_t output_mtu() const noexcept { return mtu_; }
  const std::uint8_t* output_mac() const noexcept { return mac_; }

 private:
  std::vector<std::uint16_t> started_;
  std::uint16_t mtu_ = 1500;
  std::uint8_t mac_[6] = {};
};

}  // namespace gateway
