// keycast-recv's Prometheus endpoint (--metrics-listen; lib/prom), fed by the
// receive loop with update(): the HTTP thread never reads the loop's counters.
//   keycast_recv_events_total{event}        every keycast::Event (received, descrambled, held, ...)
//   keycast_recv_drops_total{reason}        every drop reason of keycast/drop.h
//   keycast_recv_socket_datagrams_total, keycast_recv_wrong_channel_total, keycast_recv_written_total
//   keycast_recv_fetch_latency_seconds_sum, keycast_recv_fetches_answered_total
//   keycast_recv_fetch_latency_max_seconds, keycast_recv_first_clear_after_seconds
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "keycast/receiver.h"
#include "prom/endpoint.h"
#include "report.h"

namespace keycast_recv {

class Metrics {
 public:
  // bind: "IP:PORT" or "[IPv6]:PORT", port 0 for any free one. Throws
  // std::runtime_error if it cannot listen there.
  explicit Metrics(const std::string& bind);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  std::uint16_t port() const;
  void update(const keycast::Counters& c, const AppCounters& app);

 private:
  prom::Endpoint endpoint_{"keycast_recv_"};
  std::array<prometheus::Counter*, keycast::kEventCount> events_{};
  std::array<prometheus::Counter*, keycast::kDropCount> drops_{};
  prometheus::Counter* socket_datagrams_ = nullptr;
  prometheus::Counter* wrong_channel_ = nullptr;
  prometheus::Counter* written_ = nullptr;
  prometheus::Counter* latency_sum_ = nullptr;
  prometheus::Counter* answered_ = nullptr;
  prometheus::Gauge* latency_max_ = nullptr;
  prometheus::Gauge* first_clear_ = nullptr;
  // What update() has already added to the prometheus counters.
  keycast::Counters last_;
  AppCounters last_app_;
};

}  // namespace keycast_recv
