// hwloc topology and NUMA placement of the worker.
#include "placement.h"

#include <hwloc.h>


#include "dpdk.h"
#include "log_line.h"

namespace gateway {

namespace {


std::string count(int n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

int port_node(std::uint16_t port) {
  if (!rte_eth_dev_is_valid_port(port)) return SOCKET_ID_ANY;
  const int s = rte_eth_dev_socket_id(port);
  return s < 0 ? SOCKET_ID_ANY : s;
}

}  // namespace

Placement::Placement() {
  if (hwloc_topology_init(&topo_) != 0) {
    topo_ = nullptr;
    return;
  }
  if (hwloc_topology_load(topo_) != 0) {
    hwloc_topology_destroy(topo_);
    topo_ = nullptr;
  }
}

Placement::~Placement() {
  if (topo_) hwloc_topology_destroy(topo_);
}

std::string Placement::summary() const {
  if (!topo_) return "unknown (hwloc could not load it)";
  auto n = [&](hwloc_obj_type_t t) { return hwloc_get_nbobjs_by_type(topo_, t); };
  return count(n(HWLOC_OBJ_PACKAGE), "package", "packages") + ", " +
         count(n(HWLOC_OBJ_NUMANODE), "NUMA node", "NUMA nodes") + ", " + count(n(HWLOC_OBJ_CORE), "core", "cores") +
         ", " + count(n(HWLOC_OBJ_PU), "PU", "PUs");
}

int Placement::node_of(unsigned lcore) const {
  const int cpu = rte_lcore_to_cpu_id(static_cast<int>(lcore));
  if (topo_ && cpu >= 0) {
    if (hwloc_obj_t pu = hwloc_get_pu_obj_by_os_index(topo_, static_cast<unsigned>(cpu))) {
      for (hwloc_obj_t node = hwloc_get_next_obj_by_type(topo_, HWLOC_OBJ_NUMANODE, nullptr); node;
           node = hwloc_get_next_obj_by_type(topo_, HWLOC_OBJ_NUMANODE, node))
        if (hwloc_bitmap_isset(node->cpuset, pu->os_index)) return static_cast<int>(node->os_index);
    }
  }
  const unsigned s = rte_lcore_to_socket_id(lcore);
  return s == static_cast<unsigned>(SOCKET_ID_ANY) ? -1 : static_cast<int>(s);
}

std::vector<unsigned> Placement::workers_for(std::uint16_t port) const {
  std::vector<unsigned> near, far;
  const int want = port_node(port);
  for (unsigned l = rte_get_next_lcore(static_cast<unsigned>(-1), 1, 0); l < RTE_MAX_LCORE;
       l = rte_get_next_lcore(l, 1, 0))
    (want == SOCKET_ID_ANY || node_of(l) == want ? near : far).push_back(l);
  if (near.empty() && !far.empty())
    log_line("warning: no worker lcore on NUMA node " + std::to_string(want) + " of port " + std::to_string(port) +
             ": give EAL one there (-l)");
  near.insert(near.end(), far.begin(), far.end());
  return near;
}

void Placement::report(unsigned lcore, const std::vector<std::uint16_t>& input_ports,
                       std::uint16_t output_port) const {
  const int node = node_of(lcore);
  const std::string where = "worker lcore " + std::to_string(lcore) + " (cpu " +
                            std::to_string(rte_lcore_to_cpu_id(static_cast<int>(lcore))) + ", NUMA node " +
                            (node < 0 ? std::string("unknown") : std::to_string(node)) + ")";
  auto one = [&](std::uint16_t port, const char* role) {
    const int p = port_node(port);
    const std::string name = std::string(role) + " port " + std::to_string(port);
    if (p == SOCKET_ID_ANY) log_line(where + ", " + name + ": no NUMA affinity");
    else if (node < 0 || p == node) log_line(where + ", " + name + " on NUMA node " + std::to_string(p));
    else
      log_line("warning: " + where + ", " + name + " on NUMA node " + std::to_string(p) +
               ": its packets cross nodes (give EAL a worker lcore on node " + std::to_string(p) + ")");
  };
  for (const std::uint16_t p : input_ports) one(p, "input");
  one(output_port, "output");
}

}  // namespace gateway
