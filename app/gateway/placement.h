// Where the worker runs against where its ports are (hwloc): the topology
// line at start, a worker lcore on the input port's NUMA node when the
// configuration names none, and a warning when worker and port are on
// different nodes. Virtual devices (SOCKET_ID_ANY) have no NUMA affinity.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

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
  // Every EAL worker lcore, those on the port's NUMA node first (so that
  // the first workers, which poll the first queues, sit beside the port);
  // a warning when none is on its node.
  std::vector<unsigned> workers_for(std::uint16_t port) const;
  // One line per port: the lcore's node against the port's; "warning: ..."
  // when they differ.
  void report(unsigned lcore, const std::vector<std::uint16_t>& input_ports, std::uint16_t output_port) const;

 private:
  hwloc_topology* topo_ = nullptr;
};

}  // namespace gateway
