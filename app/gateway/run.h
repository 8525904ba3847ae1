// The gateway's configuration, read before rte_eal_init, and one run after
// it: keys (fail closed), ports, the workers, the control loop on the main
// lcore, clean stop.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "config/gateway_config.h"

namespace gateway {

struct RunOptions {
  std::string config;
  std::uint32_t idle_exit_ms = 0;  // 0: run until SIGINT/SIGTERM
};

// Exit codes (also in --help).
inline constexpr int kExitOk = 0;
inline constexpr int kExitCannotStart = 1;  // EAL, lcores, memory, ports
inline constexpr int kExitBadConfig = 2;    // command line or configuration
inline constexpr int kExitNoKeys = 3;       // some channel had no key by startup_timeout_ms

// The configuration file; nullopt once its error is printed (exit
// kExitBadConfig). Needs no EAL, so a bad config is told before EAL asks for
// hugepages, lcores or ports.
std::optional<GatewayConfig> load_config(const std::string& file);

int run(const GatewayConfig& config, const RunOptions& options);

// Installs the SIGINT/SIGTERM handlers that stop run().
void install_stop_signals();

}  // namespace gateway
