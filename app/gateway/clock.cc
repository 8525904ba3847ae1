// TSC calibration against the realtime clock.
#include "clock.h"

#include <chrono>

#include "dpdk.h"

namespace gateway {

TscClock::TscClock() noexcept {
  const std::uint64_t hz = rte_get_tsc_hz();
  ticks_per_ms_ = hz / 1000 ? hz / 1000 : 1;
  ticks_per_us_ = hz / 1000000 ? hz / 1000000 : 1;
  base_tsc_ = rte_get_tsc_cycles();
  base_ns_ = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count());
  base_ms_ = base_ns_ / 1000000;
}

std::uint64_t TscClock::now_ms() const noexcept { return ms_at(rte_get_tsc_cycles()); }

}  // namespace gateway
