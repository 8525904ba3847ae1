// Metrics: families, the exposer, and copying counter deltas on update().
#include "metrics.h"

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <iterator>
#include <vector>

#include "kmproto/protocol.h"

namespace keymgr {

namespace {

constexpr const char* kTypes[] = {"", "hello", "key_request", "key_generate", "key_push",
                                  "subscribe", "key_delivery", "usage_report", "heartbeat"};
static_assert(std::size(kTypes) == std::tuple_size_v<decltype(ServiceCounters::requests)>);

void add(prometheus::Counter* c, std::uint64_t now, std::uint64_t before) {
  if (c && now > before) c->Increment(static_cast<double>(now - before));
}

prometheus::Counter& counter(prometheus::Registry& r, const std::string& name, const std::string& help) {
  return prometheus::BuildCounter().Name("keycast_keymgr_" + name).Help(help).Register(r).Add({});
}

prometheus::Gauge& gauge(prometheus::Registry& r, const std::string& name, const std::string& help) {
  return prometheus::BuildGauge().Name("keycast_keymgr_" + name).Help(help).Register(r).Add({});
}

}  // namespace

Metrics::Metrics(const std::string& bind, bool replica) : registry_(std::make_shared<prometheus::Registry>()) {
  auto& r = *registry_;
  connections_ = &gauge(r, "connections", "Live connections");
  connections_refused_ = &counter(r, "connections_refused_total", "Connections closed at once, over the cap");
  auto& requests = prometheus::BuildCounter()
                       .Name("keycast_keymgr_requests_total")
                       .Help("Frames received, by message type")
                       .Register(r);
  for (std::size_t i = 1; i < requests_.size(); ++i) requests_[i] = &requests.Add({{"type", kTypes[i]}});
  auto& errors =
      prometheus::BuildCounter().Name("keycast_keymgr_errors_total").Help("ERROR frames sent, by code").Register(r);
  for (std::size_t i = 1; i < errors_.size(); ++i)
    errors_[i] = &errors.Add({{"code", kmproto::error_code_name(static_cast<kmproto::ErrorCode>(i))}});
  keys_made_ = &counter(r, "keys_made_total", "Keys made here (DRBG)");
  keys_pushed_ = &counter(r, "keys_pushed_total", "Keys accepted by KEY_PUSH");
  keys_expired_ = &counter(r, "keys_expired_total", "Keys expired and wiped");
  hello_refused_ = &counter(r, "hello_refused_total", "HELLOs refused");
  store_failures_ = &counter(r, "store_failures_total", "Key store reads or writes that failed");
  store_write_ = &prometheus::BuildHistogram()
                      .Name("keycast_keymgr_store_write_seconds")
                      .Help("Key store write (commit) latency")
                      .Register(r)
                      .Add({}, std::vector<double>(LatencyBuckets::kBounds.begin(), LatencyBuckets::kBounds.end()));
  version_ = &gauge(r, "replication_version", "The key store's current replication version");
  if (replica) {
    replication_connected_ = &gauge(r, "replication_connected", "1 while subscribed to the master");
    replication_lag_ = &gauge(r, "replication_lag_seconds", "Seconds since the last frame from the master");
  }
  exposer_ = std::make_unique<prometheus::Exposer>(bind, 2);
  exposer_->RegisterCollectable(registry_);
}

Metrics::~Metrics() = default;

std::uint16_t Metrics::port() const {
  const auto ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : static_cast<std::uint16_t>(ports.front());
}

void Metrics::update(const ServiceCounters& s, const ConnectionStats& connections, const ReplicationStats& replication) {
  connections_->Set(static_cast<double>(connections.live));
  add(connections_refused_, connections.refused, last_refused_);
  last_refused_ = connections.refused;
  for (std::size_t i = 1; i < s.requests.size(); ++i) add(requests_[i], s.requests[i], last_.requests[i]);
  for (std::size_t i = 1; i < s.errors.size(); ++i) add(errors_[i], s.errors[i], last_.errors[i]);
  add(keys_made_, s.keys_made, last_.keys_made);
  add(keys_pushed_, s.keys_pushed, last_.keys_pushed);
  add(keys_expired_, s.keys_expired, last_.keys_expired);
  add(hello_refused_, s.hello_refused, last_.hello_refused);
  add(store_failures_, s.store_failures, last_.store_failures);
  if (s.store_write.count != last_.store_write.count) {
    std::vector<double> buckets(s.store_write.counts.size());
    for (std::size_t i = 0; i < buckets.size(); ++i)
      buckets[i] = static_cast<double>(s.store_write.counts[i] - last_.store_write.counts[i]);
    store_write_->ObserveMultiple(buckets, s.store_write.sum_seconds - last_.store_write.sum_seconds);
  }
  last_ = s;
  version_->Set(static_cast<double>(replication.version));
  if (replication_connected_) replication_connected_->Set(replication.connected ? 1 : 0);
  if (replication_lag_) replication_lag_->Set(replication.lag_seconds);
}

}  // namespace keymgr
