// Where the worker runs against where its ports are (hwloc): the topology
// line at start, a worker lcore on the input port's NUMA node when the
// configuration names none, and a warning when worker and port are on
// different nodes. Virtual devices (SOCKET_ID_ANY) have no NUMA affinity.
#pragma once

#include <cstdint>
#include <string>

struct hwloc_topology;

namespace gateway {

class Placement {
 public:
  Placement();  // after rte_eal_init; without hwloc's topology it goes by DPDK's socket ids
  ~Placement();
  Placement(const Placement&) = delete;
  Placement& operator=(const Placement&) = delete;

  // "1 package, 1 NUMA node, 2 cores, 2 PUs".
  std::string summary() const;
  // The lcore's NUMA node (hwloc, else DPDK's socket id); -1 if unknown.
  int node_of(unsigned lcore) const;
  // The first EAL worker lcore on the port's NUMA node; the first worker
  // lcore when the port has no affinity or no worker is on its node.
  // RTE_MAX_LCORE when there is no worker lcore.
  unsigned worker_for(std::uint16_t port) const;
  // One line per port: the lcore's node against the port's; "warning: ..."
  // when they differ.
  void report(unsigned lcore, std::uint16_t input_port, std::uint16_t output_port) const;

 private:
  hwloc_topology* topo_ = nullptr;
};

}  // namespace gateway
