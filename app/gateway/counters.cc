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

}  // namespace gateway
