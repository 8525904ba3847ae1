// keycast-gateway: the gateway's own options (after "--") and its config are
// read first, then EAL starts with the options before "--"; a failed EAL start
// is explained in one line (hugepages, memory, options).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include "dpdk.h"
#include "log_line.h"
#include "run.h"

namespace {

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
      "Observe it with dpdk-telemetry.py (/keycast/counters, /keycast/channels, /keycast/keys, /keycast/mode,\n"
      "/keycast/workers) and, with metrics_listen set, Prometheus at http://HOST:PORT/metrics.\n"
      "Exit codes: 0 stopped cleanly, 1 could not start (EAL, lcores, memory, ports), 2 bad command line or\n"
      "configuration, 3 some channel had no key within keys.startup_timeout_ms (nothing was polled or sent).");
}

// Where "--" stands (argc when absent): EAL's options before it, ours after.
int separator(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--") == 0) return i;
  return argc;
}

bool has_arg(int from, int to, char** argv, std::initializer_list<const char*> names) {
  for (int i = from; i < to; ++i)
    for (const char* n : names)
      if (std::strcmp(argv[i], n) == 0) return true;
  return false;
}

// Free 2 MiB hugepages now, or -1 when the kernel does not say.
long free_hugepages() {
  std::FILE* f = std::fopen("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "r");
  if (!f) return -1;
  long n = -1;
  if (std::fscanf(f, "%ld", &n) != 1) n = -1;
  std::fclose(f);
  return n;
}

// rte_eal_init failed with rte_errno err: one line on what is missing and what
// to do (EAL's own lines above it are terse); returns the exit code.
int explain_eal_failure(int err, bool no_huge) {
  const std::string use_no_huge = "or run without hugepages: --no-huge -m 512";
  std::string what;
  int rc = gateway::kExitCannotStart;
  if (!no_huge && (err == EACCES || err == ENOMEM)) {
    const long free_pages = free_hugepages();
    const std::string free_text =
        free_pages < 0 ? "" : " (" + std::to_string(free_pages) + " free 2 MiB hugepages now)";
    if (err == EACCES)
      what = "no usable hugepages: EAL found no free 2 MiB hugepages on a mounted hugetlbfs" + free_text +
             ". Reserve some as root with scripts/hugepages/reserve N (N pages of 2 MiB; it mounts /dev/hugepages), " +
             use_no_huge;
    else
      what = "not enough hugepage memory: EAL could not get the memory asked for with -m from the free hugepages" +
             free_text + ". Reserve more with scripts/hugepages/reserve N, ask for less with -m, " + use_no_huge;
  } else if (no_huge && err == ENOMEM) {
    what = "EAL could not get the memory asked for with -m (--no-huge: from ordinary memory): ask for less";
  } else if (err == EINVAL) {
    what = "EAL refused its options (see its message above; `keycast-gateway --help` lists them)";
    rc = gateway::kExitBadConfig;
  } else if (err == 0) {  // EAL's config lock, among others, leaves rte_errno alone
    what = "EAL initialisation failed: see EAL's message above (\"Cannot create lock\": another process runs with "
           "the same --file-prefix)";
  } else {
    what = std::string("EAL initialisation failed: ") + rte_strerror(err) + " (see EAL's message above)";
  }
  gateway::log_line(what);
  return rc;
}

void print_app_help(const char*) {
  CLI::App app;
  gateway::RunOptions o;
  add_options(app, o);
  std::fprintf(stdout, "\n%s\n", app.help().c_str());
}

}  // namespace

int main(int argc, char** argv) {
  const int sep = separator(argc, argv);
  rte_set_application_usage_hook(print_app_help);
  if (has_arg(1, sep, argv, {"--help", "-h"})) return rte_eal_init(argc, argv) < 0 ? gateway::kExitBadConfig : 0;

  // Our options and the config first: a mistake there is told before EAL
  // wants hugepages, lcores or ports.
  CLI::App app;
  gateway::RunOptions options;
  add_options(app, options);
  std::vector<char*> ours = {argv[0]};
  ours.insert(ours.end(), argv + std::min(sep + 1, argc), argv + argc);
  try {
    app.parse(static_cast<int>(ours.size()), ours.data());
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);  // prints help, or the error
    return rc == 0 ? gateway::kExitOk : gateway::kExitBadConfig;
  }
  const auto config = gateway::load_config(options.config);
  if (!config) return gateway::kExitBadConfig;

  gateway::install_stop_signals();
  if (rte_eal_init(argc, argv) < 0) return explain_eal_failure(rte_errno, has_arg(1, sep, argv, {"--no-huge"}));
  const int rc = gateway::run(*config, options);
  rte_eal_cleanup();
  return rc;
}
