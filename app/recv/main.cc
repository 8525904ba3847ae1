// keycast-recv: joins scrambled keycast groups, descrambles with keys from
// the key manager, and writes each channel's clear payload to stdout, a file
// or a UDP group.
#include <CLI/CLI.hpp>

#include <iostream>

#include "config_file.h"
#include "exit_codes.h"
#include "options.h"
#include "run.h"
#include "tomlcheck/error.h"

int main(int argc, char** argv) {
  CLI::App app{"keycast-recv: receives scrambled keycast datagrams, descrambles them with keys from keycast-keymgr, "
               "writes the clear payloads"};
  app.footer(
      "Keys: the current and next keys of each --channel are fetched before receiving; without --channel, channels are\n"
      "learned from the datagrams. The next key is fetched at 25 % of the current key's lifetime (jittered) and at once\n"
      "on a KEY_NOTICE; datagrams under a key still being fetched are held (50 ms, 64 per channel) and released in order.\n"
      "Counters go to stderr on SIGUSR1 and at exit, and to Prometheus with --metrics-listen.\n"
      "Exit codes: 0 ok (--count reached, SIGINT/SIGTERM), 1 socket or output error, 2 bad arguments,\n"
      "3 no packets within --timeout-ms, 4 key manager unreachable, 5 not entitled (or credentials or channel refused).");
  keycast_recv::Options o;
  std::string config;
  app.add_option("--config", config,
                 "TOML file with these options: [keymgr] endpoints, failover, peer, token or cert/key/ca; [receive] "
                 "iface, timeout_ms, count, batch, hold_timeout_ms, metrics_listen; [[join]] group, channel, out. "
                 "Options given here override the file's (--join replaces its joins, channels and outs)")
      ->check(CLI::ExistingFile);
  app.add_option("--keymgr", o.keymgr, "key manager HOST:PORT or [V6]:PORT; repeat for failover, in order")
      ->take_all()->allow_extra_args(false);
  app.add_option("--failover", o.failover, "in-order (default: every reconnect starts at the first) or round-robin")
      ->check(CLI::IsMember({"in-order", "round-robin"}));
  app.add_option("--peer", o.peer, "peer id known to the key manager (the CN of --cert with TLS)");
  app.add_option("--token", o.token, "lab token (plain TCP; lab key managers only)");
  app.add_option("--cert", o.cert, "TLS client certificate (PEM)")->check(CLI::ExistingFile);
  app.add_option("--key", o.key, "TLS client private key (PEM)")->check(CLI::ExistingFile);
  app.add_option("--ca", o.ca, "CA the key manager's certificate chains to (PEM)")->check(CLI::ExistingFile);
  app.add_option("--join", o.joins,
                 "GROUP:PORT to receive, [V6]:PORT for IPv6, GROUP:PORT@SOURCE for source-specific multicast; "
                 "a unicast address is bound instead; repeatable")
      ->take_all()->allow_extra_args(false);
  app.add_option("--iface", o.iface, "interface to join on and send re-multicast from (default: the routing table's)");
  app.add_option("--channel", o.channels, "channel id of each --join, in order (default: learned from the datagrams)")
      ->take_all()->allow_extra_args(false);
  app.add_option("--out", o.outs, "stdout (default), FILE, or udp://GROUP:PORT; one for all joins or one per --join")
      ->take_all()->allow_extra_args(false);
  app.add_option("--timeout-ms", o.timeout_ms, "exit 3 when no datagram arrived for this long (default: wait forever)");
  app.add_option("--count", o.count, "exit 0 after this many clear datagrams were written (default: run until a signal)");
  app.add_option("--batch", o.batch, "datagrams per recvmmsg (default 32)");
  app.add_option("--hold-timeout-ms", o.hold_timeout_ms, "how long a datagram waits for its key (default 50)");
  app.add_option("--metrics-listen", o.metrics_listen,
                 "serve Prometheus metrics on IP:PORT or [V6]:PORT (port 0: any free one, logged)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return keycast_recv::kExitBadArguments;
  }
  if (!config.empty()) {
    try {
      o = keycast_recv::merge(keycast_recv::load_config(config), o, [&](const char* flag) { return app.count(flag) > 0; });
    } catch (const tomlcheck::ConfigError& e) {
      std::cerr << "keycast-recv: " << e.what() << "\n";
      return keycast_recv::kExitBadArguments;
    }
  }
  for (const auto& [given, flag] : {std::pair{!o.keymgr.empty(), "--keymgr"}, std::pair{!o.peer.empty(), "--peer"},
                                    std::pair{!o.joins.empty(), "--join"}}) {
    if (!given) {
      std::cerr << "keycast-recv: " << flag << " is required (or --config with it; see --help)\n";
      return keycast_recv::kExitBadArguments;
    }
  }
  const keycast_recv::Plan plan = keycast_recv::make_plan(o);
  if (!plan.error.empty()) {
    std::cerr << "keycast-recv: " << plan.error << " (see --help)\n";
    return keycast_recv::kExitBadArguments;
  }
  return keycast_recv::run(plan, {o.timeout_ms, o.count, o.batch, o.hold_timeout_ms});
}
