// keycast-keymgr-hostile: hostile peers against a running keycast-keymgr
// (issue 8). Reads the key manager's config for its peers and limits, runs
// each attack while a well-behaved peer measures its KEY_REQUEST latency and
// the key manager's RSS is sampled, and prints one line per scenario.
// Exit: 0 every answer as documented and within bounds, 1 otherwise, 2 bad
// command line or config.
#include <signal.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <iostream>
#include <set>
#include <sstream>

#include "keymgr_config.h"
#include "runner.h"
#include "scenario.h"

namespace {

using namespace hostile;

struct TlsFiles {
  std::string cert, key;
};

const keymgr::ChannelConfig* shared_channel(const keymgr::KeymgrConfig& c, const keymgr::PeerConfig& a,
                                            const keymgr::PeerConfig& b) {
  for (const auto& ch : c.channels) {
    if (ch.origin != keymgr::KeyOrigin::keymgr) continue;
    const auto has = [&](const keymgr::PeerConfig& p) {
      return std::find(p.channels.begin(), p.channels.end(), ch.id) != p.channels.end();
    };
    if (has(a) && has(b)) return &ch;
  }
  return nullptr;
}

[[noreturn]] void bad(const std::string& why) {
  std::cerr << "keycast-keymgr-hostile: " << why << "\n";
  std::exit(2);
}

PeerIdentity identity(const keymgr::PeerConfig& p, const TlsFiles& tls) {
  return {p.id, static_cast<std::uint8_t>(p.role), p.token, TlsIdentity{tls.cert, tls.key, ""}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"keycast-keymgr-hostile: hostile peers against a running keycast-keymgr on 127.0.0.1"};
  app.footer(
      "Scenarios: no-hello wrong-token(lab) wrong-cn(TLS) oversized truncated params-overrun slowloris conns flood.\n"
      "Each line: scenario, PASS/FAIL, what the key manager answered, the good peer's KEY_REQUEST latency\n"
      "(median/p99, quiet and under attack), the key manager's RSS before/peak/after. Raises RLIMIT_NOFILE\n"
      "here and, with --pid and the right to, in the key manager for `conns`.\n"
      "Exit codes: 0 all as documented and within bounds, 1 a wrong answer or bound missed, 2 bad usage.");
  std::string config_file, good_id, attacker_id, ca, only;
  int port = 0, pid = 0;
  std::uint32_t channel = 0;
  TlsFiles good_tls, attacker_tls, stranger, foreign;
  Scale scale;
  Bounds bounds;
  long gap_ms = bounds.gap.count(), trickle_ms = scale.trickle_gap.count(), settle_ms = bounds.settle.count();
  app.add_option("--config", config_file, "the key manager's TOML config (peers, tokens, limits)")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--port", port, "its port on 127.0.0.1 (default: the config's listen port)");
  app.add_option("--pid", pid, "its process id, for RSS and its descriptor limit");
  app.add_option("--good", good_id, "the well-behaved peer (default: a peer sharing a channel with the attacker)");
  app.add_option("--attacker", attacker_id, "the entitled peer that floods and holds connections");
  app.add_option("--channel", channel, "the channel both read (default: the first one they share)");
  app.add_option("--ca", ca, "TLS: CA of the server certificate (default: the config's tls.ca)");
  app.add_option("--good-cert", good_tls.cert, "TLS: certificate of the good peer (CN = its id)");
  app.add_option("--good-key", good_tls.key);
  app.add_option("--attacker-cert", attacker_tls.cert, "TLS: certificate of the attacker (CN = its id)");
  app.add_option("--attacker-key", attacker_tls.key);
  app.add_option("--stranger-cert", stranger.cert, "TLS: certificate of the right CA whose CN is no peer");
  app.add_option("--stranger-key", stranger.key);
  app.add_option("--foreign-cert", foreign.cert, "TLS: certificate of another CA");
  app.add_option("--foreign-key", foreign.key);
  app.add_option("--scenarios", only, "comma-separated subset to run");
  app.add_option("--connections", scale.connections, "conns: connections held at once")->capture_default_str();
  app.add_option("--silent", scale.silent, "no-hello: silent connections")->capture_default_str();
  app.add_option("--slowloris", scale.slowloris, "slowloris: trickling connections")->capture_default_str();
  app.add_option("--trickle-gap-ms", trickle_ms, "slowloris: ms between bytes")->capture_default_str();
  app.add_option("--half-frames", scale.half_frames, "truncated: connections stopping mid-frame")->capture_default_str();
  app.add_option("--flood-depth", scale.flood_depth, "flood: requests in flight")->capture_default_str();
  app.add_option("--samples", bounds.samples, "KEY_REQUESTs per latency measurement")->capture_default_str();
  app.add_option("--probe-gap-ms", gap_ms, "ms between the good peer's requests")->capture_default_str();
  app.add_option("--latency-factor", bounds.latency_factor, "attacked median allowed over the quiet one")
      ->capture_default_str();
  app.add_flag("--latency-advisory", bounds.latency_advisory,
               "report a good peer slower than --latency-factor without failing (the test suite on shared CPUs)");
  app.add_option("--settle-ms", settle_ms, "time RSS gets to come back after an attack")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  ::signal(SIGPIPE, SIG_IGN);  // TLS writes to connections the key manager closed
  bounds.gap = Ms(gap_ms);
  bounds.settle = Ms(settle_ms);
  scale.trickle_gap = Ms(std::max(1L, trickle_ms));

  keymgr::KeymgrConfig config;
  try {
    config = keymgr::load_keymgr_config(config_file);
  } catch (const std::exception& e) {
    bad(e.what());
  }
  Target t;
  t.port = static_cast<std::uint16_t>(port ? port : config.server.listen.port);
  if (t.port == 0) bad("the config listens on port 0: say --port");
  t.pid = pid;
  t.lab = config.server.lab;
  t.idle_timeout = Ms(config.server.idle_timeout_ms);
  t.max_connections = config.server.max_connections;
  t.request_rate = config.server.request_rate;
  t.request_burst = config.server.request_burst;

  const keymgr::PeerConfig* attacker = nullptr;
  const keymgr::PeerConfig* good = nullptr;
  if (!attacker_id.empty() && !(attacker = config.find_peer(attacker_id))) bad("no peer " + attacker_id);
  if (!good_id.empty() && !(good = config.find_peer(good_id))) bad("no peer " + good_id);
  for (const auto& a : config.peers) {
    if (attacker && &a != attacker) continue;
    for (const auto& g : config.peers) {
      if ((good && &g != good) || &g == &a || g.role == keymgr::PeerRole::replica) continue;
      if (shared_channel(config, a, g)) {
        attacker = &a;
        good = &g;
        break;
      }
    }
    if (good && attacker) break;
  }
  if (!good || !attacker || good == attacker) bad("need two different peers that read a common channel");
  const auto* ch = channel ? config.find_channel(channel) : shared_channel(config, *attacker, *good);
  if (!ch) bad("no channel " + std::to_string(channel));
  t.channel = ch->id;
  t.good = identity(*good, good_tls);
  t.attacker = identity(*attacker, attacker_tls);
  if (!t.lab) {
    t.ca = ca.empty() ? config.tls->ca.string() : ca;
    t.stranger = {stranger.cert, stranger.key, ""};
    t.foreign = {foreign.cert, foreign.key, ""};
    if (good_tls.cert.empty() || attacker_tls.cert.empty())
      bad("TLS: --good-cert/--good-key and --attacker-cert/--attacker-key are needed");
  }

  std::vector<const Scenario*> run;
  std::set<std::string> wanted, unknown;
  std::stringstream list(only);
  for (std::string item; std::getline(list, item, ',');) wanted.insert(item);
  unknown = wanted;
  for (const auto& s : scenarios()) {
    unknown.erase(s.name);
    if (!wanted.empty() && !wanted.count(s.name)) continue;
    if (s.mode == Mode::lab && !t.lab) continue;
    if (s.mode == Mode::tls && t.lab) continue;
    if (s.mode == Mode::tls && (stranger.cert.empty() || foreign.cert.empty()))
      bad("wrong-cn needs --stranger-cert/--stranger-key and --foreign-cert/--foreign-key");
    run.push_back(&s);
  }
  if (!unknown.empty()) bad("no scenario " + *unknown.begin());

  std::cout << "keymgr 127.0.0.1:" << t.port << " (" << (t.lab ? "lab" : "TLS") << "), pid " << t.pid
            << ", good peer " << t.good.id << ", attacker " << t.attacker.id << ", channel " << t.channel
            << "; idle_timeout " << t.idle_timeout.count() << " ms, max_connections " << t.max_connections
            << ", request_rate " << t.request_rate << "/s burst " << t.request_burst << std::endl;
  const Result quiet = measure_quiet(t, bounds);
  std::cout << format_line(quiet, quiet.latency) << std::endl;
  if (!quiet.pass()) return 1;
  bool all = true;
  for (const Scenario* s : run) {
    const Result r = run_scenario(*s, t, scale, quiet.latency, bounds);
    std::cout << format_line(r, quiet.latency) << std::endl;
    all = all && r.pass();
  }
  return all ? 0 : 1;
}
