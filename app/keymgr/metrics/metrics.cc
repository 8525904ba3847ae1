// Metrics: the key manager's series, and counter deltas on update().
#include "metrics.h"

#include <prometheus/histogram.h>

#include <iterator>
#include <vector>

#include "kmproto/protocol.h"

namespace keymgr {

namespace {

constexpr const char* kTypes[] = {"", "hello", "key_request", "key_generate", "key_push",
                                  "subscribe", "key_delivery", "usage_report", "heartbeat"};
static_assert(std::size(kTypes) == std::tuple_size_v<decltype(ServiceCounters::requests)>);

// What a histogram has observed since last.
void observe_delta(prometheus::Histogram* h, const LatencyBuckets& now, const LatencyBuckets& last) {
  if (now.count == last.count) return;
  std::vector<double> buckets(now.counts.size());
  for (std::size_t i = 0; i < buckets.size(); ++i) buckets[i] = static_cast<double>(now.counts[i] - last.counts[i]);
  h->ObserveMultiple(buckets, now.sum_seconds - last.sum_seconds);
}

}  // namespace

Metrics::Metrics(const std::string& bind, bool replica) {
  prom::Endpoint& e = endpoint_;
  connections_ = &e.gauge("connections", "Live connections");
  connections_refused_ = &e.counter("connections_refused_total", "Connections closed at once, over the cap");
  auto& requests = e.counters("requests_total", "Frames received, by message type");
  for (std::size_t i = 1; i < requests_.size(); ++i) requests_[i] = &requests.Add({{"type", kTypes[i]}});
  auto& errors = e.counters("errors_total", "ERROR frames sent, by code");
  for (std::size_t i = 1; i < errors_.size(); ++i)
    errors_[i] = &errors.Add({{"code", kmproto::error_code_name(static_cast<kmproto::ErrorCode>(i))}});
  keys_made_ = &e.counter("keys_made_total", "Keys made here (DRBG)");
  keys_pushed_ = &e.counter("keys_pushed_total", "Keys accepted by KEY_PUSH");
  keys_expired_ = &e.counter("keys_expired_total", "Keys expired and wiped");
  hello_refused_ = &e.counter("hello_refused_total", "HELLOs refused");
  store_failures_ = &e.counter("store_failures_total", "Key store reads or writes that failed");
  retention_deleted_ = &e.counter("retention_deleted_rows_total",
                                  "Rows the retention (server.retention_days) deleted: keys, hours of accounts, fetch runs");
  store_write_ = &latency_histogram("store_write_seconds", "Key store write (commit) latency");
  store_sync_ = &latency_histogram("store_sync_seconds", "Key store WAL sync (fdatasync, off the serving thread) latency");
  answer_ = &latency_histogram("answer_seconds",
                               "A burst of requests read to its answers sent: handling, the accounting commit, "
                               "the sync of a key just made that an answer carries");
  version_ = &e.gauge("replication_version", "The key store's current replication version");
  if (replica) {
    replication_connected_ = &e.gauge("replication_connected", "1 while subscribed to the master");
    replication_lag_ = &e.gauge("replication_lag_seconds", "Seconds since the last frame from the master");
  }
  e.serve(bind, 2);
}

Metrics::~Metrics() = default;

prometheus::Histogram& Metrics::latency_histogram(const std::string& name, const std::string& help) {
  return prometheus::BuildHistogram()
      .Name(endpoint_.name(name))
      .Help(help)
      .Register(endpoint_.registry())
      .Add({}, std::vector<double>(LatencyBuckets::kBounds.begin(), LatencyBuckets::kBounds.end()));
}

std::uint16_t Metrics::port() const { return endpoint_.port(); }

void Metrics::update(const ServiceCounters& s, const ConnectionStats& connections, const ReplicationStats& replication) {
  connections_->Set(static_cast<double>(connections.live));
  prom::add_delta(connections_refused_, connections.refused, last_refused_);
  last_refused_ = connections.refused;
  for (std::size_t i = 1; i < s.requests.size(); ++i) prom::add_delta(requests_[i], s.requests[i], last_.requests[i]);
  for (std::size_t i = 1; i < s.errors.size(); ++i) prom::add_delta(errors_[i], s.errors[i], last_.errors[i]);
  prom::add_delta(keys_made_, s.keys_made, last_.keys_made);
  prom::add_delta(keys_pushed_, s.keys_pushed, last_.keys_pushed);
  prom::add_delta(keys_expired_, s.keys_expired, last_.keys_expired);
  prom::add_delta(hello_refused_, s.hello_refused, last_.hello_refused);
  prom::add_delta(store_failures_, s.store_failures, last_.store_failures);
  prom::add_delta(retention_deleted_, s.retention_deleted, last_.retention_deleted);
  observe_delta(store_write_, s.store_write, last_.store_write);
  observe_delta(store_sync_, s.store_sync, last_.store_sync);
  observe_delta(answer_, s.answer, last_.answer);
  last_ = s;
  version_->Set(static_cast<double>(replication.version));
  if (replication_connected_) replication_connected_->Set(replication.connected ? 1 : 0);
  if (replication_lag_) replication_lag_->Set(replication.lag_seconds);
}

}  // namespace keymgr
