// The key manager's Prometheus endpoint (lib/prom): keycast_keymgr_*
// counters, gauges and latency histograms. The Asio thread calls update()
// every tick with what it counted; the HTTP thread never reads the service's
// plain counters.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "prom/endpoint.h"
#include "service/service_counters.h"

namespace prometheus {
class Histogram;
}

namespace keymgr {

struct ConnectionStats {
  std::size_t live = 0;
  std::uint64_t refused = 0;  // over the connection cap
};

struct ReplicationStats {
  std::uint64_t version = 0;  // the store's current version
  bool connected = false;     // replica only
  double lag_seconds = 0;     // replica only: since the last frame from the master
};

class Metrics {
 public:
  // bind: "IP:PORT" or "[IPv6]:PORT", port 0 for any free one. Throws
  // std::runtime_error if it cannot listen there.
  Metrics(const std::string& bind, bool replica);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  std::uint16_t port() const;
  void update(const ServiceCounters& service, const ConnectionStats& connections, const ReplicationStats& replication);

 private:
  // A histogram of LatencyBuckets' bounds, named keycast_keymgr_<name>.
  prometheus::Histogram& latency_histogram(const std::string& name, const std::string& help);

  prom::Endpoint endpoint_{"keycast_keymgr_"};

  prometheus::Gauge* connections_ = nullptr;
  prometheus::Counter* connections_refused_ = nullptr;
  std::array<prometheus::Counter*, 9> requests_{};  // as ServiceCounters::requests; [0] unused
  std::array<prometheus::Counter*, 10> errors_{};   // as ServiceCounters::errors; [0] unused
  prometheus::Counter* keys_made_ = nullptr;
  prometheus::Counter* keys_pushed_ = nullptr;
  prometheus::Counter* keys_expired_ = nullptr;
  prometheus::Counter* hello_refused_ = nullptr;
  prometheus::Counter* store_failures_ = nullptr;
  prometheus::Counter* retention_deleted_ = nullptr;
  prometheus::Histogram* store_write_ = nullptr;
  prometheus::Histogram* store_sync_ = nullptr;
  prometheus::Histogram* answer_ = nullptr;
  prometheus::Gauge* version_ = nullptr;
  prometheus::Gauge* replication_connected_ = nullptr;  // replica only
  prometheus::Gauge* replication_lag_ = nullptr;        // replica only

  // What update() has already added to the prometheus counters.
  ServiceCounters last_;
  std::uint64_t last_refused_ = 0;
};

}  // namespace keymgr
