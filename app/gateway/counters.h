// Every outcome and drop reason of the data path, declared once: the gateway's
// own list followed by one counter per pktparse::Status. Per worker, written
// only by that worker, summed only when read.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>

#include "pktparse/status.h"

namespace gateway {

#define GATEWAY_COUNTER_LIST(X)                                                   \
  X(rx, "frames received")                                                        \
  X(tx, "frames handed to the output port")                                       \
  X(tx_dropped, "frames the output port did not take")                            \
  X(scrambled, "datagrams scrambled and sent")                                    \
  X(notices_sent, "KEY_NOTICE datagrams sent")                                    \
  X(not_a_channel, "UDP datagrams to no configured channel (dropped)")            \
  X(udp_checksum_bad, "datagrams whose UDP checksum the input port found wrong (dropped)") \
  X(no_key, "datagrams of a channel without a usable key (dropped)")              \
  X(seq_not_reserved, "datagrams whose seq seq_file has not reserved yet (dropped)") \
  X(multi_segment, "multi-segment mbufs (dropped)")                               \
  X(no_headroom, "mbufs without headroom for the keycast header (dropped)")       \
  X(no_tailroom, "mbufs without tailroom for the GCM tag (dropped)")              \
  X(over_mtu, "scrambled datagrams that would exceed the output MTU (dropped)")   \
  X(degraded_switches, "key ends reached without a next key (kept the old one)")  \
  X(notice_alloc_failed, "KEY_NOTICE not sent: no mbuf")                          \
  X(event_ring_full, "switch, usage or key events lost: control ring full")      \
  X(descrambled, "datagrams descrambled and sent")                                \
  X(channel_mismatch, "keycast channel_id is not the input group's (dropped)")  \
  X(notices_received, "KEY_NOTICE datagrams received (never forwarded)")          \
  X(unknown_key_requests, "keys asked of the control thread by id")              \
  X(key_resyncs, "current keys asked of the key manager after a key id far ahead") \
  X(held, "datagrams held while their key was fetched")                           \
  X(released, "held datagrams released once their key arrived")                   \
  X(hold_overflow, "datagrams of a full hold queue (dropped)")                    \
  X(hold_timeout, "held datagrams older than hold_ms (dropped)")                  \
  X(key_too_old, "datagrams or notices under a key older than the previous one (dropped, not fetched)") \
  X(key_too_far_ahead, "datagrams or notices under a key beyond the newest by more than 16, not among the current keys (dropped)") \
  X(key_requests_rate_limited, "keys not asked for: the channel's fetch budget was spent") \
  X(replayed, "GCM datagrams whose (key, seq) was already delivered (dropped)")  \
  X(replay_too_old, "GCM datagrams 1024 or more seqs behind the newest delivered (dropped)") \
  X(held_at_stop, "datagrams still held at stop (dropped)")                       \
  X(handed_over, "datagrams passed to the worker that owns their channel")        \
  X(handoff_full, "datagrams for another worker's channel, its inbox full (dropped)") \
  X(inbox_at_stop, "datagrams still in a worker's inbox at stop (dropped)")

enum class Counter : std::uint16_t {
#define GATEWAY_COUNTER_ENUM(name, text) name,
  GATEWAY_COUNTER_LIST(GATEWAY_COUNTER_ENUM)
#undef GATEWAY_COUNTER_ENUM
  count_
};

inline constexpr std::size_t kGatewayCounters = static_cast<std::size_t>(Counter::count_);
// The pktparse part starts here; its `ok` slot stays 0.
inline constexpr std::size_t kCounterCount = kGatewayCounters + pktparse::kStatusCount;

// One worker's counters on cache lines of their own. Relaxed load+store, not
// fetch_add: one writer, and readers only need a recent value.
struct alignas(64) WorkerCounters {
  std::array<std::atomic<std::uint64_t>, kCounterCount> v{};

  void add(std::size_t i, std::uint64_t n = 1) noexcept {
    v[i].store(v[i].load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void add(Counter c, std::uint64_t n = 1) noexcept { add(static_cast<std::size_t>(c), n); }
  void add(pktparse::Status s) noexcept { add(kGatewayCounters + static_cast<std::size_t>(s)); }

  // Load: TSC cycles from a burst's arrival (RX or the inbox) to its last
  // frame in the TX buffer, and the frames of those bursts. Their ratio is
  // the data path's cost per frame, the driver's RX excluded.
  std::atomic<std::uint64_t> busy_cycles{0};
  std::atomic<std::uint64_t> busy_frames{0};
  void add_busy(std::uint64_t cycles, std::uint64_t frames) noexcept {
    busy_cycles.store(busy_cycles.load(std::memory_order_relaxed) + cycles, std::memory_order_relaxed);
    busy_frames.store(busy_frames.load(std::memory_order_relaxed) + frames, std::memory_order_relaxed);
  }
};

// Scramble: the key a channel's worker uses and what went out under it.
struct KeyUsage {
  std::uint32_t key_id = 0;  // 0 before the first key
  std::uint64_t datagrams = 0, bytes = 0;
};

// One channel as its worker last published it (every drain period, not per
// datagram), for telemetry, Prometheus and the usage file. Single writer:
// the owning worker. Its KeyUsage is written as a seqlock (version odd while
// the worker writes), so key_usage() reads the three figures of one
// publication.
struct alignas(64) ChannelStats {
  std::atomic<std::uint64_t> datagrams{0};  // (de)scrambled and sent since start
  std::atomic<std::uint64_t> seq{0};        // scramble: the next DATA seq

  void publish_key_usage(const KeyUsage& u) noexcept;  // the owning worker only
  KeyUsage key_usage() const noexcept;

 private:
  std::atomic<std::uint32_t> version_{0};
  std::atomic<std::uint32_t> key_id_{0};
  std::atomic<std::uint64_t> key_datagrams_{0};
  std::atomic<std::uint64_t> key_bytes_{0};  // UDP payload bytes
};

using CounterTotals = std::array<std::uint64_t, kCounterCount>;

CounterTotals sum_counters(std::span<const WorkerCounters* const> workers) noexcept;

struct WorkerLoad {
  std::uint64_t cycles = 0, frames = 0;
  std::uint64_t cycles_per_frame() const noexcept { return frames ? cycles / frames : 0; }
};
WorkerLoad load_of(const WorkerCounters& w) noexcept;
WorkerLoad sum_load(std::span<const WorkerCounters* const> workers) noexcept;
// One line per worker: frames and TSC cycles per frame.
void print_load(std::FILE* out, std::span<const WorkerCounters* const> workers, std::span<const unsigned> lcores,
                std::uint64_t tsc_hz);
inline std::uint64_t get(const CounterTotals& t, Counter c) { return t[static_cast<std::size_t>(c)]; }
// "not_a_channel", or a pktparse status name such as "kc_bad_magic".
const char* counter_name(std::size_t i) noexcept;
const char* counter_text(std::size_t i) noexcept;
// One "name value  (text)" line per non-zero counter.
void print_counters(std::FILE* out, const CounterTotals& totals);

}  // namespace gateway
