// Unix milliseconds from the TSC, so a worker reads the time without a
// syscall. Calibrated once at start; the control thread uses the same clock,
// so key end times and the workers' switches agree.
//
// After the calibration the wall clock is never read again: a step of it
// (NTP, `date -s`, a bad RTC corrected) moves neither this clock nor any
// key end on it. Key end times are the key manager's remaining_ms added to
// this clock when the key arrives (key_control.cc), so they follow the key
// manager's schedule whatever this host's wall clock says; seq is a counter,
// not a time (seq_lease.h).
#pragma once

#include <cstdint>

namespace gateway {

class TscClock {
 public:
  TscClock() noexcept;  // after rte_eal_init (needs rte_get_tsc_hz)

  std::uint64_t ms_at(std::uint64_t tsc) const noexcept { return base_ms_ + (tsc - base_tsc_) / ticks_per_ms_; }
  std::uint64_t now_ms() const noexcept;
  std::uint64_t ticks_per_ms() const noexcept { return ticks_per_ms_; }
  std::uint64_t ticks_per_us() const noexcept { return ticks_per_us_; }
  // The wall clock at calibration, in Unix nanoseconds.
  std::uint64_t start_unix_ns() const noexcept { return base_ns_; }

 private:
  std::uint64_t base_tsc_ = 0;
  std::uint64_t base_ns_ = 0;
  std::uint64_t base_ms_ = 0;
  std::uint64_t ticks_per_ms_ = 1;
  std::uint64_t ticks_per_us_ = 1;
};

}  // namespace gateway
