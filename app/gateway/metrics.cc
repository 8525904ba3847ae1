// Metrics: families, the exposer, and counter deltas on update().
#include "metrics.h"

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

namespace gateway {

Metrics::Metrics(const std::string& bind, const ChannelTable& channels)
    : registry_(std::make_shared<prometheus::Registry>()) {
  auto& r = *registry_;
  auto& packets = prometheus::BuildCounter()
                      .Name("keycast_gateway_packets_total")
                      .Help("Data path outcomes and drop reasons, summed over workers")
                      .Register(r);
  for (std::size_t i = 0; i < kCounterCount; ++i)
    if (i != kGatewayCounters)  // pktparse's `ok`: never counted
      packets_[i] = &packets.Add({{"outcome", counter_name(i)}});
  busy_cycles_ = &prometheus::BuildCounter()
                     .Name("keycast_gateway_busy_cycles_total")
                     .Help("TSC cycles the workers spent from RX burst to TX buffer")
                     .Register(r)
                     .Add({});
  busy_frames_ = &prometheus::BuildCounter()
                     .Name("keycast_gateway_busy_frames_total")
                     .Help("Frames those cycles were spent on")
                     .Register(r)
                     .Add({});
  auto& datagrams = prometheus::BuildCounter()
                        .Name("keycast_gateway_channel_datagrams_total")
                        .Help("Datagrams (de)scrambled and sent, per channel")
                        .Register(r);
  auto& key_id = prometheus::BuildGauge()
                     .Name("keycast_gateway_key_id")
                     .Help("Key ids the gateway holds per channel (0: none)")
                     .Register(r);
  auto& remaining = prometheus::BuildGauge()
                        .Name("keycast_gateway_key_remaining_seconds")
                        .Help("Time left of the channel's current key")
                        .Register(r);
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
  exposer_ = std::make_unique<prometheus::Exposer>(bind, 2);
  exposer_->RegisterCollectable(registry_);
}

Metrics::~Metrics() = default;

std::uint16_t Metrics::port() const {
  const auto ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : static_cast<std::uint16_t>(ports.front());
}

void Metrics::update(const CounterTotals& totals, const WorkerLoad& load, const std::vector<ChannelKeyIds>& keys,
                     const ChannelStats* stats, std::uint64_t now_ms) {
  for (std::size_t i = 0; i < kCounterCount; ++i)
    if (packets_[i] && totals[i] > last_[i]) packets_[i]->Increment(static_cast<double>(totals[i] - last_[i]));
  last_ = totals;
  if (load.cycles > last_load_.cycles) busy_cycles_->Increment(static_cast<double>(load.cycles - last_load_.cycles));
  if (load.frames > last_load_.frames) busy_frames_->Increment(static_cast<double>(load.frames - last_load_.frames));
  last_load_ = load;
  for (std::size_t i = 0; i < channels_.size() && i < keys.size(); ++i) {
    PerChannel& c = channels_[i];
    const ChannelKeyIds& k = keys[i];
    c.current->Set(k.current);
    c.next->Set(k.next);
    c.previous->Set(k.previous);
    c.remaining->Set(k.current_end_ms > now_ms ? static_cast<double>(k.current_end_ms - now_ms) / 1000.0 : 0.0);
    const std::uint64_t n = stats[i].datagrams.load(std::memory_order_relaxed);
    if (n > c.last_datagrams) c.datagrams->Increment(static_cast<double>(n - c.last_datagrams));
    c.last_datagrams = n;
  }
}

}  // namespace gateway
