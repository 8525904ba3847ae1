// Metrics: families, the exposer, and counter deltas on update().
#include "metrics.h"

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

namespace keycast_recv {

namespace {

void add(prometheus::Counter* c, std::uint64_t now, std::uint64_t before) {
  if (c && now > before) c->Increment(static_cast<double>(now - before));
}

prometheus::Counter& counter(prometheus::Registry& r, const std::string& name, const std::string& help) {
  return prometheus::BuildCounter().Name("keycast_recv_" + name).Help(help).Register(r).Add({});
}

}  // namespace

Metrics::Metrics(const std::string& bind) : registry_(std::make_shared<prometheus::Registry>()) {
  auto& r = *registry_;
  auto& events = prometheus::BuildCounter()
                     .Name("keycast_recv_events_total")
                     .Help("Receiver library events: datagrams received, descrambled, held, released, notices, key fetches")
                     .Register(r);
  for (std::size_t i = 0; i < keycast::kEventCount; ++i) {
    events_[i] = &events.Add({{"event", keycast::event_name(static_cast<keycast::Event>(i))}});
  }
  auto& drops = prometheus::BuildCounter()
                    .Name("keycast_recv_drops_total")
                    .Help("Datagrams dropped, by reason")
                    .Register(r);
  for (std::size_t i = 0; i < keycast::kDropCount; ++i) {
    if (static_cast<keycast::Drop>(i) == keycast::Drop::ok) continue;  // never a drop
    drops_[i] = &drops.Add({{"reason", keycast::drop_name(static_cast<keycast::Drop>(i))}});
  }
  socket_datagrams_ = &counter(r, "socket_datagrams_total", "Datagrams read from the joined sockets");
  wrong_channel_ = &counter(r, "wrong_channel_total", "Datagrams of another channel than their join's --channel");
  written_ = &counter(r, "written_total", "Clear payloads written to the outputs");
  latency_sum_ = &counter(r, "fetch_latency_seconds_sum", "Key fetch latency, summed over answered fetches");
  answered_ = &counter(r, "fetches_answered_total", "Key fetches answered with keys");
  latency_max_ = &prometheus::BuildGauge()
                      .Name("keycast_recv_fetch_latency_max_seconds")
                      .Help("Longest key fetch so far")
                      .Register(r)
                      .Add({});
  exposer_ = std::make_unique<prometheus::Exposer>(bind, 1);
  exposer_->RegisterCollectable(registry_);
}

Metrics::~Metrics() = default;

std::uint16_t Metrics::port() const {
  const auto ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : static_cast<std::uint16_t>(ports.front());
}

void Metrics::update(const keycast::Counters& c, const AppCounters& app) {
  for (std::size_t i = 0; i < keycast::kEventCount; ++i) add(events_[i], c.events[i], last_.events[i]);
  for (std::size_t i = 0; i < keycast::kDropCount; ++i) add(drops_[i], c.drops[i], last_.drops[i]);
  add(socket_datagrams_, app.socket_datagrams, last_app_.socket_datagrams);
  add(wrong_channel_, app.wrong_channel, last_app_.wrong_channel);
  add(written_, app.written, last_app_.written);
  add(answered_, c.fetches_answered, last_.fetches_answered);
  if (c.fetch_latency_us_sum > last_.fetch_latency_us_sum) {
    latency_sum_->Increment(static_cast<double>(c.fetch_latency_us_sum - last_.fetch_latency_us_sum) / 1e6);
  }
  latency_max_->Set(static_cast<double>(c.fetch_latency_us_max) / 1e6);
  last_ = c;
  last_app_ = app;
}

}  // namespace keycast_recv
