// Metrics: the gateway's series, and counter deltas on update().
#include "metrics.h"

namespace gateway {

Metrics::Metrics(const std::string& bind, const ChannelTable& channels) {
  prom::Endpoint& e = endpoint_;
  auto& packets = e.counters("packets_total", "Data path outcomes and drop reasons, summed over workers");
  for (std::size_t i = 0; i < kCounterCount; ++i)
    if (i != kGatewayCounters)  // pktparse's `ok`: never counted
      packets_[i] = &packets.Add({{"outcome", counter_name(i)}});
  busy_cycles_ = &e.counter("busy_cycles_total", "TSC cycles the workers spent from RX burst to TX buffer");
  busy_frames_ = &e.counter("busy_frames_total", "Frames those cycles were spent on");
  auto& usage = e.counters("usage_reports_total", "USAGE_REPORTs the key manager took (sent) or given up (lost)");
  usage_sent_ = &usage.Add({{"outcome", "sent"}});
  usage_lost_ = &usage.Add({{"outcome", "lost"}});
  usage_failures_ = &e.counter("usage_report_failures_total", "USAGE_REPORT sends not taken (tried again later)");
  usage_maybe_twice_ = &e.counter("usage_reports_maybe_twice_total",
                                  "USAGE_REPORTs taken after an endpoint sent them gave no answer: maybe counted there too");
  usage_waiting_ = &e.gauge("usage_reports_waiting", "USAGE_REPORTs waiting for the key manager");
  auto& datagrams = e.counters("channel_datagrams_total", "Datagrams (de)scrambled and sent, per channel");
  auto& key_id = e.gauges("key_id", "Key ids the gateway holds per channel (0: none)");
  auto& remaining = e.gauges("key_remaining_seconds", "Time left of the channel's current key");
  channels_.resize(channels.size());
  for (const Channel& ch : channels.channels()) {
    const std::string id = std::to_string(ch.id);
    PerChannel& c = channels_[ch.index];
    c.datagrams = &datagrams.Add({{"channel", id}});
    c.current = &key_id.Add({{"channel", id}, {"which", "current"}});
    c.next = &key_id.Add({{"channel", id}, {"which", "next"}});
    c.previous = &key_id.Add({{"channel", id}, {"which", "previous"}});
    c.remaining = &remaining.Add({{"channel", id}});
  }
  e.serve(bind, 2);
}

Metrics::~Metrics() = default;

std::uint16_t Metrics::port() const { return endpoint_.port(); }

void Metrics::update(const CounterTotals& totals, const WorkerLoad& load, const std::vector<ChannelKeyIds>& keys,
                     const UsageStats& usage, const ChannelStats* stats, std::uint64_t now_ms) {
  for (std::size_t i = 0; i < kCounterCount; ++i) prom::add_delta(packets_[i], totals[i], last_[i]);
  last_ = totals;
  prom::add_delta(busy_cycles_, load.cycles, last_load_.cycles);
  prom::add_delta(busy_frames_, load.frames, last_load_.frames);
  last_load_ = load;
  prom::add_delta(usage_sent_, usage.sent, last_usage_.sent);
  prom::add_delta(usage_lost_, usage.lost, last_usage_.lost);
  prom::add_delta(usage_failures_, usage.failed_attempts, last_usage_.failed_attempts);
  prom::add_delta(usage_maybe_twice_, usage.maybe_twice, last_usage_.maybe_twice);
  usage_waiting_->Set(static_cast<double>(usage.waiting));
  last_usage_ = usage;
  for (std::size_t i = 0; i < channels_.size() && i < keys.size(); ++i) {
    PerChannel& c = channels_[i];
    const ChannelKeyIds& k = keys[i];
    c.current->Set(k.current);
    c.next->Set(k.next);
    c.previous->Set(k.previous);
    c.remaining->Set(k.current_end_ms > now_ms ? static_cast<double>(k.current_end_ms - now_ms) / 1000.0 : 0.0);
    const std::uint64_t n = stats[i].datagrams.load(std::memory_order_relaxed);
    prom::add_delta(c.datagrams, n, c.last_datagrams);
    c.last_datagrams = n;
  }
}

}  // namespace gateway
