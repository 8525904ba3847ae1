// Runs the keycast-gateway binary as a child process with a deadline, and
// the EAL arguments of a test run on net_pcap ports without hugepages.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace gateway::test {

struct GatewayRun {
  int exit_code = -1;  // 128 + signal when killed
  std::string output;  // stdout and stderr
};

// Runs KEYCAST_GATEWAY_BIN with args. SIGTERM after stop_after (if non-zero),
// SIGKILL after timeout.
GatewayRun run_gateway(const std::vector<std::string>& args, std::chrono::milliseconds timeout,
                       std::chrono::milliseconds stop_after = std::chrono::milliseconds(0));

// --no-huge -m 512 --no-pci --file-prefix <unique> -l 0-1 and the given vdevs.
std::vector<std::string> eal_args(const std::vector<std::string>& vdevs);

// Removes the EAL runtime directories (/var/run/dpdk/<prefix>) of this test
// process's runs.
void remove_runtime_dirs();

}  // namespace gateway::test
