// The gateway's life: load, placement, metrics, keys first, ports, telemetry,
// launch, control loop, stop.
#include "run.h"

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "channel_table.h"
#include "clock.h"
#include "config/gateway_config.h"
#include "counters.h"
#include "dpdk.h"
#include "events.h"
#include "key_control.h"
#include "key_table.h"
#include "metrics.h"
#include "placement.h"
#include "ports.h"
#include "telemetry.h"
#include "worker.h"

namespace gateway {

namespace {

std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free);

void on_stop_signal(int) { g_stop.store(true, std::memory_order_relaxed); }

constexpr unsigned kEventRingSize = 1024;
constexpr auto kControlPeriod = std::chrono::milliseconds(2);
constexpr std::uint64_t kObservePeriodMs = 100;  // telemetry key snapshot, Prometheus update

void say(const std::string& line) { std::fprintf(stderr, "keycast-gateway: %s\n", line.c_str()); }

// The worker lcore: the configured one, or an EAL worker lcore on the input
// port's NUMA node. This increment runs exactly one worker.
unsigned pick_worker(const GatewayConfig& config, const Placement& placement) {
  if (config.worker_lcores.size() > 1)
    throw std::invalid_argument("worker_lcores lists " + std::to_string(config.worker_lcores.size()) +
                                " lcores; this version runs exactly one worker");
  if (!config.worker_lcores.empty()) {
    const unsigned l = config.worker_lcores.front();
    if (l >= RTE_MAX_LCORE || !rte_lcore_is_enabled(l) || l == rte_get_main_lcore())
      throw std::invalid_argument("worker lcore " + std::to_string(l) +
                                  " is not an EAL worker lcore (give it to EAL with -l, besides the main lcore)");
    return l;
  }
  const unsigned l = placement.worker_for(config.ports.input);
  if (l >= RTE_MAX_LCORE)
    throw std::invalid_argument("no worker lcore: give EAL at least two lcores (-l 0-1: main 0, worker 1)");
  if (rte_lcore_count() > 2)
    say("note: one worker (lcore " + std::to_string(l) + "); the other worker lcores stay idle in this version");
  return l;
}

std::string join_ids(const std::vector<std::uint32_t>& ids) {
  std::string s;
  for (const auto id : ids) s += (s.empty() ? "" : ", ") + std::to_string(id);
  return s;
}

struct RingDeleter {
  void operator()(rte_ring* r) const { rte_ring_free(r); }
};
struct PoolDeleter {
  void operator()(rte_mempool* p) const { rte_mempool_free(p); }
};

int serve(const GatewayConfig& config, const RunOptions& options) {
  if (!config.keys.shm.empty()) {
    say("keys.shm (shared-memory key source) is not implemented in this version: use endpoints");
    return kExitBadConfig;
  }
  const Placement placement;
  say("topology (hwloc): " + placement.summary());
  unsigned lcore = 0;
  std::unique_ptr<ChannelTable> channels;
  try {
    lcore = pick_worker(config, placement);
    channels = std::make_unique<ChannelTable>(config);
  } catch (const std::exception& e) {
    say(e.what());
    return kExitBadConfig;
  }
  placement.report(lcore, config.ports.input, config.ports.output);

  std::unique_ptr<Metrics> metrics;
  if (!config.metrics_listen.empty()) {
    try {
      metrics = std::make_unique<Metrics>(config.metrics_listen, *channels);
    } catch (const std::exception& e) {
      say("metrics_listen " + config.metrics_listen + ": " + e.what());
      return kExitCannotStart;
    }
    const std::string host = config.metrics_listen.substr(0, config.metrics_listen.rfind(':'));
    say("metrics on http://" + host + ":" + std::to_string(metrics->port()) + "/metrics");
  }

  const TscClock clock;
  KeyTable table;
  KeyControl control(config, *channels, table, clock);
  const auto missing = control.load_initial_keys();
  if (!missing.empty()) {
    say("no key for channel(s) " + join_ids(missing) + " within startup_timeout_ms = " +
        std::to_string(config.keys.startup_timeout_ms) +
        "; a gateway polls its ports only once every channel has its keys: not starting");
    return kExitNoKeys;
  }
  if (g_stop.load()) return kExitOk;

  auto counters = std::make_unique<WorkerCounters>();
  const WorkerCounters* all[] = {counters.get()};
  auto channel_stats = std::make_unique<ChannelStats[]>(channels->size());
  int worker_rc = 0;
  {
    std::unique_ptr<rte_mempool, PoolDeleter> pool;
    std::unique_ptr<Ports> ports;
    try {
      pool.reset(create_pool(config.ports, 1));
      ports = std::make_unique<Ports>(config.ports, 1, pool.get());
    } catch (const std::exception& e) {
      say(e.what());
      return kExitCannotStart;
    }
    std::unique_ptr<rte_ring, RingDeleter> events(rte_ring_create_elem(
        "keycast_events0", sizeof(Event), kEventRingSize, static_cast<int>(rte_lcore_to_socket_id(lcore)),
        RING_F_SP_ENQ | RING_F_SC_DEQ));
    if (!events) {
      say(std::string("event ring: ") + rte_strerror(rte_errno));
      return kExitCannotStart;
    }

    WorkerContext ctx;
    ctx.mode = config.mode;
    ctx.lcore = lcore;
    ctx.rx_port = config.ports.input;
    ctx.tx_port = config.ports.output;
    ctx.burst = static_cast<std::uint16_t>(std::min<std::uint32_t>(config.burst, 0xFFFF));
    ctx.tx_drain_us = config.tx_drain_us;
    ctx.tx_mtu = ports->output_mtu();
    std::copy_n(ports->output_mac(), 6, ctx.tx_mac);
    ctx.pool = pool.get();
    ctx.channels = channels.get();
    ctx.keys = &table;
    ctx.clock = &clock;
    ctx.events = events.get();
    ctx.quit = &g_stop;
    ctx.counters = counters.get();
    ctx.channel_stats = channel_stats.get();

    Telemetry telemetry({config.mode, lcore, config.ports.input, config.ports.output, channels.get(), &clock,
                         {counters.get()}, channel_stats.get()});
    std::uint64_t observed_ms = 0;
    auto observe = [&] {
      const std::uint64_t now = clock.now_ms();
      if (now - observed_ms < kObservePeriodMs) return;
      observed_ms = now;
      auto ids = control.key_ids();
      if (metrics) metrics->update(sum_counters(all), ids, channel_stats.get(), now);
      telemetry.publish_keys(std::move(ids));
    };
    observe();

    const std::uint64_t started_ms = clock.now_ms();
    if (rte_eal_remote_launch(worker_main, &ctx, lcore) != 0) {
      say("cannot launch the worker on lcore " + std::to_string(lcore));
      return kExitCannotStart;
    }
    say(std::string(config.mode == Mode::scramble ? "scrambling" : "descrambling") + ": polling port " +
        std::to_string(config.ports.input) + " on lcore " + std::to_string(lcore) + ", " +
        std::to_string(channels->size()) + " channel(s), sending on port " + std::to_string(config.ports.output));

    Event e;
    while (!g_stop.load(std::memory_order_relaxed)) {
      while (rte_ring_sc_dequeue_elem(events.get(), &e, sizeof e) == 0) control.handle(e);
      control.tick();
      observe();
      if (options.idle_exit_ms) {
        const std::uint64_t last = std::max(ctx.last_rx_ms.load(std::memory_order_relaxed), started_ms);
        if (clock.now_ms() - last >= options.idle_exit_ms) {
          say("no packet for " + std::to_string(options.idle_exit_ms) + " ms: stopping (--idle-exit)");
          break;
        }
      }
      if (rte_eal_get_lcore_state(lcore) != RUNNING) break;  // the worker could not start
      std::this_thread::sleep_for(kControlPeriod);
    }
    g_stop.store(true);
    worker_rc = rte_eal_wait_lcore(lcore);
    while (rte_ring_sc_dequeue_elem(events.get(), &e, sizeof e) == 0) control.handle(e);
    ports.reset();  // stops and closes: TX is drained, pcap files written
  }
  std::fprintf(stderr, "keycast-gateway: counters:\n");
  print_counters(stderr, sum_counters(all));
  if (worker_rc != 0) {
    say("the worker could not start (no memory for its TX buffer or hold queues)");
    return kExitCannotStart;
  }
  return kExitOk;
}

}  // namespace

void install_stop_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  (void)sigaction(SIGINT, &sa, nullptr);
  (void)sigaction(SIGTERM, &sa, nullptr);
}

int run(const RunOptions& options) {
  GatewayConfig config;
  try {
    config = load_gateway_config(options.config);
  } catch (const std::exception& e) {
    say(e.what());
    return kExitBadConfig;
  }
  return serve(config, options);
}

}  // namespace gateway
