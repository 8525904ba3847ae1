// Port and mbuf pool setup; link state polling.
#include "ports.h"

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

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

rte_eth_dev_info port_info(std::uint16_t port) {
  const std::string name = "port " + std::to_string(port);
  if (!rte_eth_dev_is_valid_port(port))
    throw std::runtime_error(name + " does not exist (" + std::to_string(rte_eth_dev_count_avail()) +
                             " ports available: give --vdev or a PCI device to EAL)");
  rte_eth_dev_info info{};
  const int rc = rte_eth_dev_info_get(port, &info);
  if (rc != 0) throw std::runtime_error(dpdk_error(name + " info", rc));
  return info;
}

// rx_offloads, tx_offloads: asked for beyond MBUF_FAST_FREE; the caller
// checked the port offers them.
void setup_port(std::uint16_t port, std::uint16_t rxq, std::uint16_t txq, const PortConfig& cfg, rte_mempool* pool,
                std::uint64_t rx_offloads, std::uint64_t tx_offloads) {
  const std::string name = "port " + std::to_string(port);
  const rte_eth_dev_info info = port_info(port);
  rte_eth_conf conf{};
  conf.rxmode.offloads = rx_offloads;
  conf.txmode.offloads = tx_offloads;
  if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE) conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MBUF_FAST_FREE;
  if (rxq > 1 && (info.flow_type_rss_offloads & RTE_ETH_RSS_IP)) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP);
  }
  int rc = rte_eth_dev_configure(port, rxq, txq, &conf);
  if (rc != 0) throw std::runtime_error(dpdk_error(name + " configure", rc));
  std::uint16_t rxd = cfg.rx_descriptors, txd = cfg.tx_descriptors;
  if ((rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &rxd, &txd)) != 0)
    throw std::runtime_error(dpdk_error(name + " descriptors", rc));
  const int socket = rte_eth_dev_socket_id(port);
  const unsigned sock = socket < 0 ? SOCKET_ID_ANY : static_cast<unsigned>(socket);
  rte_eth_txconf txconf = info.default_txconf;
  txconf.offloads = conf.txmode.offloads;
  for (std::uint16_t i = 0; i < rxq; ++i)
    if ((rc = rte_eth_rx_queue_setup(port, i, rxd, sock, nullptr, pool)) != 0)
      throw std::runtime_error(dpdk_error(name + " RX queue " + std::to_string(i), rc));
  for (std::uint16_t i = 0; i < txq; ++i)
    if ((rc = rte_eth_tx_queue_setup(port, i, txd, sock, &txconf)) != 0)
      throw std::runtime_error(dpdk_error(name + " TX queue " + std::to_string(i), rc));
  if ((rc = rte_eth_dev_start(port)) != 0) throw std::runtime_error(dpdk_error(name + " start", rc));
  // Multicast input: take every group, let the channel table choose.
  (void)rte_eth_promiscuous_enable(port);
  (void)rte_eth_allmulticast_enable(port);
}

}  // namespace

rte_mempool* create_pool(const PortConfig& ports) {
  const unsigned n = std::max<unsigned>(ports.mbufs, 1024);
  const unsigned cache = std::min<unsigned>(256, n / 4);
  // On the first input port's NUMA node, where its RX descriptors and the
  // worker are; anywhere if that node has no memory for it.
  const std::uint16_t first = ports.inputs.front();
  const int port_socket = rte_eth_dev_is_valid_port(first) ? rte_eth_dev_socket_id(first) : -1;
  const int socket = port_socket < 0 ? static_cast<int>(rte_socket_id()) : port_socket;
  rte_mempool* pool = rte_pktmbuf_pool_create("keycast_mbufs", n, cache, 0, RTE_MBUF_DEFAULT_BUF_SIZE, socket);
  if (!pool && rte_errno == ENOMEM)
    pool = rte_pktmbuf_pool_create("keycast_mbufs", n, cache, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (!pool)
    throw std::runtime_error(dpdk_error("mbuf pool of " + std::to_string(n) +
                                            " mbufs (give EAL more memory: more free hugepages, see "
                                            "scripts/hugepages/reserve, or a larger -m with --no-huge; or lower "
                                            "ports.mbufs)",
                                        rte_errno));
  return pool;
}

Ports::Ports(const PortConfig& config, unsigned max_workers, rte_mempool* pool) {
  // An input port gets up to one RX queue per worker (RSS spreads flows over
  // them); there are no more workers than input RX queues or output TX
  // queues; the output port gets one TX queue per worker. Every port keeps one queue of the other kind when it
  // offers one (some PMDs need it).
  std::vector<std::uint16_t> rxq;
  std::size_t total = 0;
  for (const std::uint16_t in : config.inputs) {
    const rte_eth_dev_info info = port_info(in);
    if (info.max_rx_queues == 0) throw std::runtime_error("port " + std::to_string(in) + " (input) offers no RX queue");
    rxq.push_back(static_cast<std::uint16_t>(std::min<unsigned>(max_workers, info.max_rx_queues)));
    total += rxq.back();
  }
  const rte_eth_dev_info out = port_info(config.output);
  if (out.max_tx_queues == 0)
    throw std::runtime_error("port " + std::to_string(config.output) + " (output) offers no TX queue");
  workers_ = static_cast<unsigned>(std::min<std::size_t>({max_workers, total, out.max_tx_queues}));
  // Every RX descriptor may hold an mbuf, every TX queue a ring of them.
  const std::size_t need = total * config.rx_descriptors + std::size_t{workers_} * config.tx_descriptors;
  if (config.mbufs < need)
    throw std::runtime_error("ports.mbufs = " + std::to_string(config.mbufs) + " cannot fill " + std::to_string(total) +
                             " RX queue(s) of " + std::to_string(config.rx_descriptors) + " and " +
                             std::to_string(workers_) + " TX queue(s) of " + std::to_string(config.tx_descriptors) +
                             " descriptors: raise it to at least " + std::to_string(need + 1024));
  try {
    for (std::size_t i = 0; i < config.inputs.size(); ++i) {
      const std::uint16_t in = config.inputs[i];
      const rte_eth_dev_info info = port_info(in);
      const bool check = config.udp_checksum_offload && (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_UDP_CKSUM);
      setup_port(in, rxq[i], static_cast<std::uint16_t>(std::min<unsigned>(1, info.max_tx_queues)), config, pool,
                 check ? RTE_ETH_RX_OFFLOAD_UDP_CKSUM : 0, 0);
      if (check) udp_checksum_checked_.push_back(in);
      started_.push_back(in);
      for (std::uint16_t q = 0; q < rxq[i]; ++q) rx_.push_back({in, q});
    }
    udp_checksum_offload_ = config.udp_checksum_offload && (out.tx_offload_capa & RTE_ETH_TX_OFFLOAD_UDP_CKSUM);
    setup_port(config.output, static_cast<std::uint16_t>(std::min<unsigned>(1, out.max_rx_queues)),
               static_cast<std::uint16_t>(workers_), config, pool, 0,
               udp_checksum_offload_ ? RTE_ETH_TX_OFFLOAD_UDP_CKSUM : 0);
    started_.push_back(config.output);
  } catch (...) {
    close_all();
    throw;
  }
  if (rte_eth_dev_get_mtu(config.output, &mtu_) != 0) mtu_ = 1500;
  rte_ether_addr addr{};
  if (rte_eth_macaddr_get(config.output, &addr) == 0) std::memcpy(mac_, addr.addr_bytes, 6);
}

Ports::~Ports() { close_all(); }

void Ports::close_all() noexcept {
  for (const std::uint16_t p : started_) {
    (void)rte_eth_dev_stop(p);
    (void)rte_eth_dev_close(p);
  }
  started_.clear();
}

LinkWatch::LinkWatch(const std::vector<std::uint16_t>& ports)
    : ioctl_fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
  for (const std::uint16_t p : ports) {
    Link l;
    l.port = p;
    rte_eth_dev_info info{};
    char name[IF_NAMESIZE] = {};
    if (rte_eth_dev_info_get(p, &info) == 0 && info.if_index != 0 && ::if_indextoname(info.if_index, name))
      l.kernel_name = name;
    links_.push_back(std::move(l));
  }
}

LinkWatch::~LinkWatch() {
  if (ioctl_fd_ >= 0) ::close(ioctl_fd_);
}

bool LinkWatch::is_up(const Link& l) const {
  rte_eth_link link{};
  if (rte_eth_link_get_nowait(l.port, &link) == 0 && link.link_status == RTE_ETH_LINK_DOWN) return false;
  if (l.kernel_name.empty() || ioctl_fd_ < 0) return true;
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, l.kernel_name.data(), std::min<std::size_t>(l.kernel_name.size(), IF_NAMESIZE - 1));
  if (::ioctl(ioctl_fd_, SIOCGIFFLAGS, &ifr) != 0) return errno != ENODEV;  // the interface is gone: down
  return (ifr.ifr_flags & IFF_RUNNING) != 0;
}

std::vector<LinkWatch::Change> LinkWatch::poll() {
  std::vector<Change> out;
  for (Link& l : links_) {
    const bool up = is_up(l);
    if (up != l.up) out.push_back({l.port, up});
    l.up = up;
  }
  return out;
}

std::vector<std::vector<RxQueue>> assign_rx_queues(const std::vector<RxQueue>& queues, unsigned workers) {
  std::vector<std::vector<RxQueue>> out(workers);
  // Queue-major order: queue 0 of every port first, so one-queue ports
  // land on different workers.
  std::size_t k = 0;
  for (std::uint16_t q = 0;; ++q) {
    bool any = false;
    for (const RxQueue& r : queues)
      if (r.queue == q) {
        out[k++ % workers].push_back(r);
        any = true;
      }
    if (!any) break;
  }
  return out;
}

}  // namespace gateway
