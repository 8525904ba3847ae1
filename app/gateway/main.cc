// keycast-gateway: EAL options, then the gateway's own after "--".
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstring>
#include <string>

#include "dpdk.h"
#include "run.h"

namespace {

constexpr const char* kUsage = "keycast-gateway [EAL options] -- --config FILE [--idle-exit MS]";

void add_options(CLI::App& app, gateway::RunOptions& o) {
  app.name("keycast-gateway [EAL options] --");
  app.description(
      "keycast-gateway: the keycast data plane (DPDK). Scrambles the clear multicast of the configured\n"
      "channels into keycast datagrams (wire-format.md) with keys from the key manager, or (mode =\n"
      "\"descramble\") turns keycast datagrams back into the original multicast. Datagrams to no\n"
      "configured channel are dropped, never forwarded.");
  app.add_option("--config", o.config, "gateway TOML configuration (see config/gateway-scramble-lab.toml)")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--idle-exit", o.idle_exit_ms, "stop cleanly after MS milliseconds without a received packet")
      ->check(CLI::Range(1u, 86400000u));
  app.footer(
      "EAL options come before \"--\" (for example --no-huge -m 512 --no-pci --file-prefix gw1 -l 0-1\n"
      "--vdev net_pcap0,rx_pcap=in.pcap,tx_pcap=unused.pcap --vdev net_pcap1,rx_pcap=empty.pcap,tx_pcap=out.pcap);\n"
      "`keycast-gateway --help` prints EAL's own options. The main lcore runs the control thread; every other\n"
      "lcore (or worker_lcores) runs a worker polling its share of the input RX queues and sending on its own TX\n"
      "queue. Keys of every channel are fetched before polling starts.\n"
      "SIGINT/SIGTERM stop cleanly: the burst finishes, TX is drained, keys are wiped, counters are printed.\n"
      "Observe it with dpdk-telemetry.py (/keycast/counters, /keycast/channels, /keycast/keys, /keycast/mode)\n"
      "and, with metrics_listen set, Prometheus at http://HOST:PORT/metrics.\n"
      "Exit codes: 0 stopped cleanly, 1 could not start (EAL, lcores, memory, ports), 2 bad command line or\n"
      "configuration, 3 some channel had no key within keys.startup_timeout_ms (nothing was polled or sent).");
}

// `keycast-gateway -- --help` answers without starting EAL.
bool wants_app_help(int argc, char** argv) {
  bool after = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--") == 0) after = true;
    else if (after && (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0)) return true;
  }
  return false;
}

void print_app_help(const char*) {
  CLI::App app;
  gateway::RunOptions o;
  add_options(app, o);
  std::fprintf(stdout, "\n%s\n", app.help().c_str());
}

}  // namespace

int main(int argc, char** argv) {
  if (wants_app_help(argc, argv)) {
    print_app_help(argv[0]);
    return 0;
  }
  rte_set_application_usage_hook(print_app_help);
  gateway::install_stop_signals();
  const int eal_args = rte_eal_init(argc, argv);
  if (eal_args < 0) {
    std::fprintf(stderr, "keycast-gateway: EAL initialisation failed: %s\nUsage: %s\n", rte_strerror(rte_errno), kUsage);
    return gateway::kExitCannotStart;
  }
  argc -= eal_args;
  argv += eal_args;

  CLI::App app;
  gateway::RunOptions options;
  add_options(app, options);
  int rc = 0;
  try {
    app.parse(argc, argv);
    rc = gateway::run(options);
  } catch (const CLI::ParseError& e) {
    rc = app.exit(e);
    if (rc != 0) rc = gateway::kExitBadConfig;
  }
  rte_eal_cleanup();
  return rc;
}
