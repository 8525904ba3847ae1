// Counter names, sums and the exit summary.
#include "counters.h"

#include <cinttypes>

namespace gateway {

namespace {

constexpr const char* kNames[kGatewayCounters] = {
#define GATEWAY_COUNTER_NAME(name, text) #name,
    GATEWAY_COUNTER_LIST(GATEWAY_COUNTER_NAME)
#undef GATEWAY_COUNTER_NAME
};
constexpr const char* kTexts[kGatewayCounters] = {
#define GATEWAY_COUNTER_TEXT(name, text) text,
    GATEWAY_COUNTER_LIST(GATEWAY_COUNTER_TEXT)
#undef GATEWAY_COUNTER_TEXT
};

}  // namespace

CounterTotals sum_counters(std::span<const WorkerCounters* const> workers) noexcept {
  CounterTotals t{};
  for (const WorkerCounters* w : workers)
    for (std::size_t i = 0; i < kCounterCount; ++i) t[i] += w->v[i].load(std::memory_order_relaxed);
  return t;
}

const char* counter_name(std::size_t i) noexcept {
  if (i < kGatewayCounters) return kNames[i];
  return pktparse::status_name(static_cast<pktparse::Status>(i - kGatewayCounters));
}

const char* counter_text(std::size_t i) noexcept {
  if (i < kGatewayCounters) return kTexts[i];
  return pktparse::status_text(static_cast<pktparse::Status>(i - kGatewayCounters));
}

void print_counters(std::FILE* out, const CounterTotals& totals) {
  for (std::size_t i = 0; i < kCounterCount; ++i)
    if (totals[i] != 0) std::fprintf(out, "  %-28s %" PRIu64 "  (%s)\n", counter_name(i), totals[i], counter_text(i));
}

WorkerLoad load_of(const WorkerCounters& w) noexcept {
  return {w.busy_cycles.load(std::memory_order_relaxed), w.busy_frames.load(std::memory_order_relaxed)};
}

WorkerLoad sum_load(std::span<const WorkerCounters* const> workers) noexcept {
  WorkerLoad t;
  for (const WorkerCounters* w : workers) {
    const WorkerLoad l = load_of(*w);
    t.cycles += l.cycles;
    t.frames += l.frames;
  }
  return t;
}

void print_load(std::FILE* out, std::span<const WorkerCounters* const> workers, std::span<const unsigned> lcores,
                std::uint64_t tsc_hz) {
  for (std::size_t i = 0; i < workers.size() && i < lcores.size(); ++i) {
    const WorkerLoad l = load_of(*workers[i]);
    std::fprintf(out, "  worker lcore %u: %" PRIu64 " frames, %" PRIu64 " TSC cycles each (%.1f ns at %.0f MHz)\n",
                 lcores[i], l.frames, l.cycles_per_frame(),
                 tsc_hz ? static_cast<double>(l.cycles_per_frame()) * 1e9 / static_cast<double>(tsc_hz) : 0.0,
                 static_cast<double>(tsc_hz) / 1e6);
  }
}

void ChannelStats::publish_key_usage(const KeyUsage& u) noexcept {
  const std::uint32_t v = version_.load(std::memory_order_relaxed);
  version_.store(v + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  key_id_.store(u.key_id, std::memory_order_relaxed);
  key_datagrams_.store(u.datagrams, std::memory_order_relaxed);
  key_bytes_.store(u.bytes, std::memory_order_relaxed);
  version_.store(v + 2, std::memory_order_release);
}

KeyUsage ChannelStats::key_usage() const noexcept {
  for (;;) {
    const std::uint32_t v = version_.load(std::memory_order_acquire);
    if (v & 1) continue;
    KeyUsage u;
    u.key_id = key_id_.load(std::memory_order_relaxed);
    u.datagrams = key_datagrams_.load(std::memory_order_relaxed);
    u.bytes = key_bytes_.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (version_.load(std::memory_order_relaxed) == v) return u;
  }
}

}  // namespace gateway
