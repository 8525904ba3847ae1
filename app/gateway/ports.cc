// Port and mbuf pool setup.
#include "ports.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "dpdk.h"

namespace gateway {

namespace {

std::string dpdk_error(const std::string& what, int rc) {
  return what + ": " + rte_strerror(rc < 0 ? -rc : rc);
}

void setup_port(std::uint16_t port, unsigned queues, const PortConfig& cfg, rte_mempool* pool) {
  const std::string name = "port " + std::to_string(port);
  if (!rte_eth_dev_is_valid_port(port))
    throw std::runtime_error(name + " does not exist (" + std::to_string(rte_eth_dev_count_avail()) +
                             " ports available: give --vdev or a PCI device to EAL)");
  rte_eth_dev_info info{};
  int rc = rte_eth_dev_info_get(port, &info);
  if (rc != 0) throw std::runtime_error(dpdk_error(name + " info", rc));
  rte_eth_conf conf{};
  if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE) conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
  const auto q = static_cast<std::uint16_t>(queues);
  if ((rc = rte_eth_dev_configure(port, q, q, &conf)) != 0) throw std::runtime_error(dpdk_error(name + " configure", rc));
  std::uint16_t rxd = cfg.rx_descriptors, txd = cfg.tx_descriptors;
  if ((rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &rxd, &txd)) != 0)
    throw std::runtime_error(dpdk_error(name + " descriptors", rc));
  const int socket = rte_eth_dev_socket_id(port);
  const unsigned sock = socket < 0 ? SOCKET_ID_ANY : static_cast<unsigned>(socket);
  rte_eth_txconf txconf = info.default_txconf;
  txconf.offloads = conf.txmode.offloads;
  for (std::uint16_t i = 0; i < q; ++i) {
    if ((rc = rte_eth_rx_queue_setup(port, i, rxd, sock, nullptr, pool)) != 0)
      throw std::runtime_error(dpdk_error(name + " RX queue", rc));
    if ((rc = rte_eth_tx_queue_setup(port, i, txd, sock, &txconf)) != 0)
      throw std::runtime_error(dpdk_error(name + " TX queue", rc));
  }
  if ((rc = rte_eth_dev_start(port)) != 0) throw std::runtime_error(dpdk_error(name + " start", rc));
  // Multicast input: take every group, let the channel table choose.
  (void)rte_eth_promiscuous_enable(port);
  (void)rte_eth_allmulticast_enable(port);
}

}  // namespace

rte_mempool* create_pool(const PortConfig& ports, unsigned workers) {
  const unsigned n = std::max<unsigned>(ports.mbufs, 1024);
  const unsigned cache = std::min<unsigned>(256, n / 4);
  // On the input port's NUMA node, where its RX descriptors and the worker
  // are; anywhere if that node has no memory for it.
  const int port_socket = rte_eth_dev_is_valid_port(ports.input) ? rte_eth_dev_socket_id(ports.input) : -1;
  const int socket = port_socket < 0 ? static_cast<int>(rte_socket_id()) : port_socket;
  rte_mempool* pool = rte_pktmbuf_pool_create("keycast_mbufs", n, cache, 0, RTE_MBUF_DEFAULT_BUF_SIZE, socket);
  if (!pool && rte_errno == ENOMEM)
    pool = rte_pktmbuf_pool_create("keycast_mbufs", n, cache, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (!pool)
    throw std::runtime_error(dpdk_error("mbuf pool of " + std::to_string(n) + " mbufs for " + std::to_string(workers) +
                                            " worker(s) (raise -m, or lower ports.mbufs)",
                                        rte_errno));
  return pool;
}

Ports::Ports(const PortConfig& config, unsigned workers, rte_mempool* pool) {
  try {
    setup_port(config.input, workers, config, pool);
    started_.push_back(config.input);
    if (config.output != config.input) {
      setup_port(config.output, workers, config, pool);
      started_.push_back(config.output);
    }
  } catch (...) {
    for (const std::uint16_t p : started_) {
      (void)rte_eth_dev_stop(p);
      (void)rte_eth_dev_close(p);
    }
    throw;
  }
  if (rte_eth_dev_get_mtu(config.output, &mtu_) != 0) mtu_ = 1500;
  rte_ether_addr addr{};
  if (rte_eth_macaddr_get(config.output, &addr) == 0) std::memcpy(mac_, addr.addr_bytes, 6);
}

Ports::~Ports() {
  for (const std::uint16_t p : started_) {
    (void)rte_eth_dev_stop(p);
    (void)rte_eth_dev_close(p);
  }
}

}  // namespace gateway
