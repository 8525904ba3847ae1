// Metrics: keycast-recv's series, and counter deltas on update().
#include "metrics.h"

namespace keycast_recv {

Metrics::Metrics(const std::string& bind) {
  prom::Endpoint& e = endpoint_;
  auto& events = e.counters("events_total",
                            "Receiver library events: datagrams received, descrambled, held, released, notices, key fetches");
  for (std::size_t i = 0; i < keycast::kEventCount; ++i) {
    events_[i] = &events.Add({{"event", keycast::event_name(static_cast<keycast::Event>(i))}});
  }
  auto& drops = e.counters("drops_total", "Datagrams dropped, by reason");
  for (std::size_t i = 0; i < keycast::kDropCount; ++i) {
    if (static_cast<keycast::Drop>(i) == keycast::Drop::ok) continue;  // never a drop
    drops_[i] = &drops.Add({{"reason", keycast::drop_name(static_cast<keycast::Drop>(i))}});
  }
  socket_datagrams_ = &e.counter("socket_datagrams_total", "Datagrams read from the joined sockets");
  wrong_channel_ = &e.counter("wrong_channel_total", "Datagrams of another channel than their join's --channel");
  written_ = &e.counter("written_total", "Clear payloads written to the outputs");
  latency_sum_ = &e.counter("fetch_latency_seconds_sum", "Key fetch latency, summed over answered fetches");
  answered_ = &e.counter("fetches_answered_total", "Key fetches answered with keys");
  latency_max_ = &e.gauge("fetch_latency_max_seconds", "Longest key fetch so far");
  first_clear_ = &e.gauge("first_clear_after_seconds",
                          "From the first datagram received to the first clear one written (0 until then)");
  e.serve(bind, 1);
}

Metrics::~Metrics() = default;

std::uint16_t Metrics::port() const { return endpoint_.port(); }

void Metrics::update(const keycast::Counters& c, const AppCounters& app) {
  for (std::size_t i = 0; i < keycast::kEventCount; ++i) prom::add_delta(events_[i], c.events[i], last_.events[i]);
  for (std::size_t i = 0; i < keycast::kDropCount; ++i) prom::add_delta(drops_[i], c.drops[i], last_.drops[i]);
  prom::add_delta(socket_datagrams_, app.socket_datagrams, last_app_.socket_datagrams);
  prom::add_delta(wrong_channel_, app.wrong_channel, last_app_.wrong_channel);
  prom::add_delta(written_, app.written, last_app_.written);
  prom::add_delta(answered_, c.fetches_answered, last_.fetches_answered);
  if (c.fetch_latency_us_sum > last_.fetch_latency_us_sum) {
    latency_sum_->Increment(static_cast<double>(c.fetch_latency_us_sum - last_.fetch_latency_us_sum) / 1e6);
  }
  latency_max_->Set(static_cast<double>(c.fetch_latency_us_max) / 1e6);
  first_clear_->Set(static_cast<double>(app.first_clear_after_us) / 1e6);
  last_ = c;
  last_app_ = app;
}

}  // namespace keycast_recv
