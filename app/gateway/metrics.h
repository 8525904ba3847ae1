// The gateway's Prometheus endpoint (lib/prom), updated by the control loop
// with update(): the HTTP thread never reads the workers' counters or the
// control thread's state.
//   keycast_gateway_packets_total{outcome}          every counter of counters.h
//   keycast_gateway_channel_datagrams_total{channel}
//   keycast_gateway_key_id{channel,which}           current/next/previous, 0 if none
//   keycast_gateway_key_remaining_seconds{channel}  of the current key
//   keycast_gateway_busy_cycles_total, keycast_gateway_busy_frames_total
//                                                   workers' load, summed (counters.h)
//   keycast_gateway_usage_reports_total{outcome}    sent / lost (usage_reports.h)
//   keycast_gateway_usage_report_failures_total     sends the key manager did not take
//   keycast_gateway_usage_reports_waiting
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "channel_table.h"
#include "counters.h"
#include "key_control.h"
#include "prom/endpoint.h"

namespace gateway {

class Metrics {
 public:
  // bind: "IP:PORT" or "[IPv6]:PORT", port 0 for any free one. Throws
  // std::runtime_error if it cannot listen there.
  Metrics(const std::string& bind, const ChannelTable& channels);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  std::uint16_t port() const;
  // keys and stats by channel index.
  void update(const CounterTotals& totals, const WorkerLoad& load, const std::vector<ChannelKeyIds>& keys,
              const UsageStats& usage, const ChannelStats* stats, std::uint64_t now_ms);

 private:
  struct PerChannel {
    prometheus::Counter* datagrams = nullptr;
    prometheus::Gauge* current = nullptr;
    prometheus::Gauge* next = nullptr;
    prometheus::Gauge* previous = nullptr;
    prometheus::Gauge* remaining = nullptr;
    std::uint64_t last_datagrams = 0;
  };

  prom::Endpoint endpoint_{"keycast_gateway_"};
  std::array<prometheus::Counter*, kCounterCount> packets_{};
  CounterTotals last_{};
  prometheus::Counter* busy_cycles_ = nullptr;
  prometheus::Counter* busy_frames_ = nullptr;
  WorkerLoad last_load_{};
  prometheus::Counter* usage_sent_ = nullptr;
  prometheus::Counter* usage_lost_ = nullptr;
  prometheus::Counter* usage_failures_ = nullptr;
  prometheus::Counter* usage_maybe_twice_ = nullptr;
  prometheus::Gauge* usage_waiting_ = nullptr;
  UsageStats last_usage_{};
  std::vector<PerChannel> channels_;  // by channel index
};

}  // namespace gateway
