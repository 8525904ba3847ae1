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
#include "log_line.h"
#include "metrics.h"
#include "placement.h"
#include "ports.h"
#include "secmem/wipe.h"
#include "seq_lease.h"
#include "telemetry.h"
#include "worker.h"

namespace gateway {

namespace {

std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free);

void on_stop_signal(int) { g_stop.store(true, std::memory_order_relaxed); }

constexpr unsigned kEventRingSize = 1024;
constexpr unsigned kInboxSize = 4096;  // datagrams handed to a worker by the others
constexpr auto kControlPeriod = std::chrono::milliseconds(2);
constexpr std::uint64_t kObservePeriodMs = 100;  // telemetry key snapshot, Prometheus update


// The worker lcores: the configured ones, or every EAL worker lcore (those
// on the first input port's NUMA node first).
std::vector<unsigned> pick_workers(const GatewayConfig& config, const Placement& placement) {
  if (config.worker_lcores.empty()) {
    auto all = placement.workers_for(config.ports.inputs.front());
    if (all.empty())
      throw std::invalid_argument("no worker lcore: give EAL at least two lcores (-l 0-1: main 0, worker 1)");
    return all;
  }
  for (const unsigned l : config.worker_lcores)
    if (l >= RTE_MAX_LCORE || !rte_lcore_is_enabled(l) || l == rte_get_main_lcore())
      throw std::invalid_argument("worker lcore " + std::to_string(l) +
                                  " is not an EAL worker lcore (give it to EAL with -l, besides the main lcore)");
  return config.worker_lcores;
}

std::string join(const std::vector<std::string>& parts) {
  std::string s;
  for (const auto& p : parts) s += (s.empty() ? "" : ", ") + p;
  return s;
}

std::string join_ids(const std::vector<std::uint32_t>& ids) {
  std::vector<std::string> parts;
  for (const auto id : ids) parts.push_back(std::to_string(id));
  return join(parts);
}

struct RingDeleter {
  void operator()(rte_ring* r) const { rte_ring_free(r); }
};
struct PoolDeleter {
  void operator()(rte_mempool* p) const { rte_mempool_free(p); }
};

// What the ports dropped before a worker saw it or after it sent it (the
// PMD's own counters: RX ring full, no mbuf, TX errors), one line per port
// with any.
void report_port_drops(const std::vector<std::uint16_t>& inputs, std::uint16_t output) {
  std::vector<std::uint16_t> all = inputs;
  all.push_back(output);
  for (const std::uint16_t p : all) {
    rte_eth_stats st{};
    if (rte_eth_stats_get(p, &st) != 0) continue;
    if (st.imissed || st.ierrors || st.rx_nombuf || st.oerrors)
      log_line("port " + std::to_string(p) + " dropped: imissed " + std::to_string(st.imissed) +
               " (RX ring full), ierrors " + std::to_string(st.ierrors) + ", rx_nombuf " + std::to_string(st.rx_nombuf) +
               ", oerrors " + std::to_string(st.oerrors));
  }
}

std::string link_change_text(const LinkWatch::Change& c, std::uint16_t output) {
  const bool out = c.port == output;
  std::string text = "port " + std::to_string(c.port) + (out ? " (output)" : " (input)") + " link " +
                     (c.up ? "up" : "down");
  if (!c.up)
    text += out ? ": until it is up, what the PMD cannot send is dropped and counted (tx_dropped, the port's oerrors)"
                : ": nothing is received on it until it is up";
  return text;
}

// Everything one worker owns besides its context: event ring and inbox.
struct WorkerSlot {
  WorkerContext ctx;
  WorkerCounters counters;
  std::unique_ptr<rte_ring, RingDeleter> events, inbox;
};

std::unique_ptr<rte_ring, RingDeleter> make_ring(const std::string& name, unsigned elem_size, unsigned count,
                                                 unsigned lcore, unsigned flags) {
  rte_ring* r = rte_ring_create_elem(name.c_str(), elem_size, count, static_cast<int>(rte_lcore_to_socket_id(lcore)),
                                     flags);
  if (!r) throw std::runtime_error(name + ": " + rte_strerror(rte_errno));
  return std::unique_ptr<rte_ring, RingDeleter>(r);
}

int serve(const GatewayConfig& config, const RunOptions& options) {
  const Placement placement;
  log_line("topology (hwloc): " + placement.summary());
  std::vector<unsigned> lcores;
  std::unique_ptr<ChannelTable> channels;
  try {
    lcores = pick_workers(config, placement);
    channels = std::make_unique<ChannelTable>(config);
  } catch (const std::exception& e) {
    log_line(e.what());
    return kExitBadConfig;
  }

  std::unique_ptr<Metrics> metrics;
  if (!config.metrics_listen.empty()) {
    try {
      metrics = std::make_unique<Metrics>(config.metrics_listen, *channels);
    } catch (const std::exception& e) {
      log_line("metrics_listen " + config.metrics_listen + ": " + e.what());
      return kExitCannotStart;
    }
    const std::string host = config.metrics_listen.substr(0, config.metrics_listen.rfind(':'));
    log_line("metrics on http://" + host + ":" + std::to_string(metrics->port()) + "/metrics");
  }

  const TscClock clock;
  std::unique_ptr<SeqLease> seq;
  if (config.mode == Mode::scramble) {
    try {
      seq = std::make_unique<SeqLease>(config.seq_file, clock.start_unix_ns());
    } catch (const std::exception& e) {
      log_line(e.what());
      return kExitCannotStart;
    }
    log_line(seq->start_note());
  }
  std::unique_ptr<UsageFile> usage_file;
  if (config.usage_file) {
    try {
      usage_file = std::make_unique<UsageFile>(*config.usage_file);
    } catch (const std::exception& e) {
      log_line(e.what());
      return kExitCannotStart;
    }
  }
  KeyTable table;
  KeyControl control(config, *channels, table, clock, std::move(usage_file));
  const auto missing = control.load_initial_keys();
  if (!missing.empty()) {
    log_line("no key for channel(s) " + join_ids(missing) + " within startup_timeout_ms = " +
             std::to_string(config.keys.startup_timeout_ms) +
             "; a gateway polls its ports only once every channel has its keys: not starting");
    return kExitNoKeys;
  }
  if (g_stop.load()) return kExitOk;

  auto channel_stats = std::make_unique<ChannelStats[]>(channels->size());
  std::unique_ptr<ChannelOwners> owners;
  std::vector<std::unique_ptr<WorkerSlot>> slots;
  std::vector<const WorkerCounters*> all;
  bool launch_failed = false;
  {
    std::unique_ptr<rte_mempool, PoolDeleter> pool;
    std::unique_ptr<Ports> ports;
    std::vector<rte_ring*> inboxes;
    try {
      pool.reset(create_pool(config.ports));
      ports = std::make_unique<Ports>(config.ports, static_cast<unsigned>(lcores.size()), pool.get());
      if (ports->workers() < lcores.size()) {
        log_line("note: " + std::to_string(lcores.size()) + " worker lcores, but the ports offer " +
                 std::to_string(ports->rx_queues().size()) + " input RX queue(s) and TX queues for " +
                 std::to_string(ports->workers()) + ": running " + std::to_string(ports->workers()) + " worker(s)");
        lcores.resize(ports->workers());
      }
      if (ports->udp_checksum_offload())
        log_line("port " + std::to_string(config.ports.output) + " computes the UDP checksums (TX offload)");
      for (const std::uint16_t in : ports->udp_checksum_checked())
        log_line("port " + std::to_string(in) + " checks UDP checksums (RX offload): what it finds wrong is dropped");
      const auto queues = assign_rx_queues(ports->rx_queues(), ports->workers());
      owners = std::make_unique<ChannelOwners>(ports->workers());
      for (std::size_t w = 0; w < lcores.size(); ++w) {
        auto slot = std::make_unique<WorkerSlot>();
        const std::string n = std::to_string(w);
        slot->events = make_ring("keycast_events" + n, sizeof(Event), kEventRingSize, lcores[w],
                                 RING_F_SP_ENQ | RING_F_SC_DEQ);
        slot->inbox = make_ring("keycast_inbox" + n, sizeof(void*), kInboxSize, lcores[w], RING_F_SC_DEQ);
        inboxes.push_back(slot->inbox.get());
        WorkerContext& ctx = slot->ctx;
        ctx.mode = config.mode;
        ctx.lcore = lcores[w];
        ctx.index = static_cast<std::uint16_t>(w);
        if (queues[w].size() > kMaxRxQueuesPerWorker)
          throw std::runtime_error("worker " + n + " would poll " + std::to_string(queues[w].size()) +
                                   " RX queues; at most " + std::to_string(kMaxRxQueuesPerWorker) + ": add worker lcores");
        std::copy(queues[w].begin(), queues[w].end(), ctx.rx);
        ctx.rx_count = static_cast<std::uint16_t>(queues[w].size());
        ctx.tx_port = config.ports.output;
        ctx.tx_queue = static_cast<std::uint16_t>(w);
        ctx.burst = static_cast<std::uint16_t>(std::min<std::uint32_t>(config.burst, 0xFFFF));
        ctx.tx_drain_us = config.tx_drain_us;
        ctx.idle_sleep_us = config.idle_sleep_us;
        ctx.tx_mtu = ports->output_mtu();
        std::copy_n(ports->output_mac(), 6, ctx.tx_mac);
        ctx.tx_udp_checksum = ports->udp_checksum_offload();
        ctx.pool = pool.get();
        ctx.channels = channels.get();
        ctx.keys = &table;
        ctx.clock = &clock;
        if (seq) {
          ctx.first_seq = seq->first();
          ctx.seq_limit = &seq->limit();
        }
        ctx.events = slot->events.get();
        ctx.owners = owners.get();
        ctx.quit = &g_stop;
        ctx.counters = &slot->counters;
        ctx.channel_stats = channel_stats.get();
        all.push_back(&slot->counters);
        slots.push_back(std::move(slot));
      }
      for (auto& slot : slots) slot->ctx.inboxes = inboxes.data();
    } catch (const std::exception& e) {
      log_line(e.what());
      return kExitCannotStart;
    }
    for (const auto& slot : slots) {
      std::vector<std::uint16_t> ports_polled;
      std::vector<std::string> polled;
      for (std::uint16_t q = 0; q < slot->ctx.rx_count; ++q) {
        ports_polled.push_back(slot->ctx.rx[q].port);
        polled.push_back(std::to_string(slot->ctx.rx[q].port) + "/" + std::to_string(slot->ctx.rx[q].queue));
      }
      placement.report(slot->ctx.lcore, ports_polled, config.ports.output);
      log_line("worker " + std::to_string(slot->ctx.index) + " on lcore " + std::to_string(slot->ctx.lcore) +
               ": polls port/queue " + join(polled) + ", sends on port " + std::to_string(config.ports.output) +
               " queue " + std::to_string(slot->ctx.tx_queue));
    }

    std::vector<std::uint16_t> input_ports = config.ports.inputs;
    std::vector<std::uint16_t> all_ports = input_ports;
    all_ports.push_back(config.ports.output);
    LinkWatch links(all_ports);
    Telemetry telemetry({config.mode, lcores, input_ports, config.ports.output, channels.get(), &clock, all,
                         channel_stats.get()});
    std::uint64_t observed_ms = 0;
    auto observe = [&] {
      const std::uint64_t now = clock.now_ms();
      if (now - observed_ms < kObservePeriodMs) return;
      observed_ms = now;
      for (const LinkWatch::Change& c : links.poll()) log_line(link_change_text(c, config.ports.output));
      auto ids = control.key_ids();
      const UsageStats usage = control.usage_stats();
      if (metrics) metrics->update(sum_counters(all), sum_load(all), ids, usage, channel_stats.get(), now);
      telemetry.publish(std::move(ids), usage);
    };
    observe();

    const std::uint64_t started_ms = clock.now_ms();
    std::size_t launched = 0;
    for (; launched < slots.size(); ++launched)
      if (rte_eal_remote_launch(worker_main, &slots[launched]->ctx, slots[launched]->ctx.lcore) != 0) {
        log_line("cannot launch a worker on lcore " + std::to_string(slots[launched]->ctx.lcore));
        g_stop.store(true);
        break;
      }
    log_line(std::string(config.mode == Mode::scramble ? "scrambling" : "descrambling") + ": " +
             std::to_string(launched) + " worker(s), " + std::to_string(channels->size()) +
             " channel(s), sending on port " + std::to_string(config.ports.output));

    auto drain_events = [&] {
      Event e;
      for (const auto& slot : slots)
        while (rte_ring_sc_dequeue_elem(slot->events.get(), &e, sizeof e) == 0) control.handle(e);
    };
    secmem::StackWipeTimer stack_wipe(std::chrono::milliseconds(100));  // what key fetches and preparations left
    while (!g_stop.load(std::memory_order_relaxed)) {
      drain_events();
      if (config.mode == Mode::scramble) control.observe_usage(channel_stats.get());
      control.tick();
      stack_wipe.due();
      if (seq) {
        std::uint64_t next_seq = 0;
        for (std::size_t i = 0; i < channels->size(); ++i)
          next_seq = std::max(next_seq, channel_stats[i].seq.load(std::memory_order_relaxed));
        seq->keep_ahead(next_seq, clock.now_ms());
      }
      observe();
      if (options.idle_exit_ms) {
        std::uint64_t last = started_ms;
        for (const auto& slot : slots) last = std::max(last, slot->ctx.last_rx_ms.load(std::memory_order_relaxed));
        if (clock.now_ms() - last >= options.idle_exit_ms) {
          log_line("no packet for " + std::to_string(options.idle_exit_ms) + " ms: stopping (--idle-exit)");
          break;
        }
      }
      bool all_running = true;
      for (const auto& slot : slots) all_running &= rte_eal_get_lcore_state(slot->ctx.lcore) == RUNNING;
      if (!all_running) break;  // a worker could not start
      std::this_thread::sleep_for(kControlPeriod);
    }
    g_stop.store(true);
    for (std::size_t w = 0; w < launched; ++w) launch_failed |= rte_eal_wait_lcore(slots[w]->ctx.lcore) != 0;
    launch_failed |= launched < slots.size();
    drain_events();
    control.stop();
    // What the workers handed over after their owner stopped.
    for (const auto& slot : slots) {
      void* m = nullptr;
      while (rte_ring_sc_dequeue(slot->inbox.get(), &m) == 0) {
        rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
        slot->counters.add(Counter::inbox_at_stop);
      }
    }
    report_port_drops(input_ports, config.ports.output);
    ports.reset();  // stops and closes: TX is drained, pcap files written
  }
  std::fprintf(stderr, "keycast-gateway: counters:\n");
  print_counters(stderr, sum_counters(all));
  if (sum_load(all).frames) {
    std::fprintf(stderr, "keycast-gateway: load (RX burst to TX buffer):\n");
    print_load(stderr, all, lcores, rte_get_tsc_hz());
  }
  if (launch_failed) {
    log_line("a worker could not start (no memory for its TX buffer or hold queues)");
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

std::optional<GatewayConfig> load_config(const std::string& file) {
  GatewayConfig config;
  try {
    config = load_gateway_config(file);
  } catch (const std::exception& e) {
    log_line(e.what());
    return std::nullopt;
  }
  try {
    (void)std::make_unique<ChannelTable>(config);  // its limits are the config's too
  } catch (const std::exception& e) {
    log_line(file + ": " + e.what());
    return std::nullopt;
  }
  return config;
}

int run(const GatewayConfig& config, const RunOptions& options) { return serve(config, options); }

}  // namespace gateway
