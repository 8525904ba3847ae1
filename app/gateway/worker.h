// One worker lcore: everything it needs, prepared by run.cc before launch,
// and its entry point (scramble or descramble, as the configuration says).
//
// Several workers: each polls its own RX queues and sends on its own TX
// queue. A channel belongs to the first worker that receives one of its
// datagrams (owners[], claimed once, never given up), so its seq, key state
// and hold queue stay single-writer; a datagram that arrives at another
// worker is handed to the owner through the owner's inbox ring. Until then
// the channel is provisionally some worker's, which rolls its keys on time
// (a channel without traffic still switches keys); the first datagram's
// worker takes it over with fresh state (no datagram was scrambled yet).
#pragma once

#include <atomic>
#include <cstdint>

#include "channel_table.h"
#include "clock.h"
#include "counters.h"
#include "key_table.h"
#include "ports.h"

struct rte_mempool;
struct rte_ring;

namespace gateway {

inline constexpr unsigned kMaxRxQueuesPerWorker = 16;
inline constexpr std::uint16_t kProvisional = 0x8000;  // | worker index: until the first datagram

// Which worker owns each channel (by channel index), shared by all workers.
struct ChannelOwners {
  std::atomic<std::uint16_t> of[kMaxChannels];
  // Channel i provisionally worker i % workers.
  explicit ChannelOwners(unsigned workers) noexcept {
    for (std::size_t i = 0; i < kMaxChannels; ++i)
      of[i].store(static_cast<std::uint16_t>(kProvisional | (i % workers)), std::memory_order_relaxed);
  }
};

struct WorkerContext {
  Mode mode = Mode::scramble;
  unsigned lcore = 0;
  std::uint16_t index = 0;  // 0..workers-1
  RxQueue rx[kMaxRxQueuesPerWorker];
  std::uint16_t rx_count = 0;
  std::uint16_t tx_port = 0, tx_queue = 0;
  std::uint16_t burst = 32;
  std::uint32_t tx_drain_us = 100;
  std::uint32_t idle_sleep_us = 0;
  std::uint16_t tx_mtu = 1500;
  std::uint8_t tx_mac[6] = {};
  bool tx_udp_checksum = false;  // the output port computes UDP checksums (TX offload)
  rte_mempool* pool = nullptr;  // for KEY_NOTICE frames
  const ChannelTable* channels = nullptr;
  const KeyTable* keys = nullptr;
  const TscClock* clock = nullptr;
  // Scramble: every channel's first seq, and the reservation it must stay
  // below (SeqLease, published by the control thread).
  std::uint64_t first_seq = 0;
  const std::atomic<std::uint64_t>* seq_limit = nullptr;
  rte_ring* events = nullptr;  // this worker produces, the control thread consumes
  ChannelOwners* owners = nullptr;
  rte_ring* const* inboxes = nullptr;  // every worker's inbox (MP/SC rings of mbufs), by index
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
