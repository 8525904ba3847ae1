// The /keycast/ command set of DPDK telemetry (dpdk-telemetry.py, or the
// process's dpdk_telemetry.v2 socket): /keycast/counters, /keycast/channels,
// /keycast/keys, /keycast/mode, /keycast/workers. The commands run on DPDK's telemetry thread
// and read only atomics (the workers' counters and channel stats, relaxed)
// and what the control thread publishes under a mutex every ~100 ms (key ids,
// usage report counts).
// They never dereference a KeySet, so that thread needs no RCU registration
// and cannot see key material.
#pragma once

#include <cstdint>
#include <vector>

#include "channel_table.h"
#include "clock.h"
#include "counters.h"
#include "key_control.h"

namespace gateway {

struct TelemetryView {
  Mode mode = Mode::scramble;
  std::vector<unsigned> worker_lcores;
  std::vector<std::uint16_t> input_ports;
  std::uint16_t output_port = 0;
  const ChannelTable* channels = nullptr;
  const TscClock* clock = nullptr;
  std::vector<const WorkerCounters*> counters;
  const ChannelStats* channel_stats = nullptr;  // by channel index
};

// DPDK cannot unregister a command: they are registered once per process and
// answer null while no Telemetry object is alive. Everything the view points
// to must outlive the object.
class Telemetry {
 public:
  explicit Telemetry(TelemetryView view);
  ~Telemetry();
  Telemetry(const Telemetry&) = delete;
  Telemetry& operator=(const Telemetry&) = delete;

  void publish(std::vector<ChannelKeyIds> keys, const UsageStats& usage);
};

}  // namespace gateway
