// One worker lcore: everything it needs, prepared by main before launch, and
// its entry point (scramble or descramble, as the configuration says). The worker owns every channel in this increment (one
// worker), so all per-channel state is single-writer.
#pragma once

#include <atomic>
#include <cstdint>

#include "channel_table.h"
#include "clock.h"
#include "counters.h"
#include "key_table.h"

struct rte_mempool;
struct rte_ring;

namespace gateway {

struct WorkerContext {
  Mode mode = Mode::scramble;
  unsigned lcore = 0;
  std::uint16_t rx_port = 0, rx_queue = 0;
  std::uint16_t tx_port = 0, tx_queue = 0;
  std::uint16_t burst = 32;
  std::uint32_t tx_drain_us = 100;
  std::uint16_t tx_mtu = 1500;
  std::uint8_t tx_mac[6] = {};
  rte_mempool* pool = nullptr;  // for KEY_NOTICE frames
  const ChannelTable* channels = nullptr;
  const KeyTable* keys = nullptr;
  const TscClock* clock = nullptr;
  rte_ring* events = nullptr;  // this worker produces, the control thread consumes
  const std::atomic<bool>* quit = nullptr;

  // Written by the worker, read by the control thread.
  WorkerCounters* counters = nullptr;
  ChannelStats* channel_stats = nullptr;  // by channel index; optional
  std::atomic<std::uint64_t> last_rx_ms{0};
};

// rte_eal_remote_launch entry; arg is a WorkerContext*. Returns 0, or -1 if
// it could not start (no memory for its TX buffer or hold queues).
int worker_main(void* arg);

}  // namespace gateway
