// Runs the keycast-gateway binary as a child process (to the end with a
// deadline, or kept running while a test talks to it), and the EAL arguments
// of a test run on net_pcap ports without hugepages.
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

// KEYCAST_GATEWAY_BIN with args, running while the test looks at it; env
// ("NAME=VALUE") is set for the child on top of this process's environment.
class GatewayChild {
 public:
  explicit GatewayChild(const std::vector<std::string>& args, const std::vector<std::string>& env = {});
  ~GatewayChild();  // SIGKILL if still running
  GatewayChild(const GatewayChild&) = delete;
  GatewayChild& operator=(const GatewayChild&) = delete;

  // Collects output until text appears (true), the child closes its output
  // or timeout passes (false).
  bool wait_for(const std::string& text, std::chrono::milliseconds timeout);
  // Collects output for duration; false if the child closed it before.
  bool collect_for(std::chrono::milliseconds duration);
  const std::string& output() const { return output_; }
  // For the signals a test sends it (SIGSTOP, SIGCONT).
  int pid() const { return pid_; }
  // Sends sig (0: none), collects output until the child ends, SIGKILL after
  // timeout.
  GatewayRun finish(int sig, std::chrono::milliseconds timeout);

 private:
  bool pump(int timeout_ms);  // false at end of output
  int pid_ = -1;
  int fd_ = -1;
  std::string output_;
};

// Runs KEYCAST_GATEWAY_BIN with args. SIGTERM after stop_after (if non-zero),
// SIGKILL after timeout.
GatewayRun run_gateway(const std::vector<std::string>& args, std::chrono::milliseconds timeout,
                       std::chrono::milliseconds stop_after = std::chrono::milliseconds(0));

// --no-huge -m 512 --no-pci --file-prefix <unique> -l 0-1 and the given vdevs.
std::vector<std::string> eal_args(const std::vector<std::string>& vdevs);
// Port 0 as a continuous stream: net_pcap replaying pcap for ever (infinite_rx).
std::string endless_input_vdev(const std::filesystem::path& pcap);

// Removes the EAL runtime directories (/var/run/dpdk/<prefix>) of this test
// process's runs.
void remove_runtime_dirs();

}  // namespace gateway::test
