// Runs one scenario against the key manager: its memory sampled before,
// during and after, the good peer's latency measured while the attack is in
// place, and a verdict against the quiet figures.
#pragma once

#include <string>

#include "latency_probe.h"
#include "scenario.h"

namespace hostile {

struct Bounds {
  std::size_t samples = 200;  // KEY_REQUESTs per latency measurement
  Ms gap{5};                  // between them
  double latency_factor = 2;  // attacked median over quiet median
  bool latency_advisory = false;  // a slow good peer is reported, not a failure (tests on shared CPUs)
  Ms settle{5000};            // for RSS to come back after the attack
};

struct Result {
  std::string name;
  Findings findings;
  Latency latency;
  std::uint64_t rss_before = 0, rss_peak = 0, rss_after = 0;  // KiB
  std::uint64_t rss_peak_bound = 0, rss_after_bound = 0;      // KiB
  std::uint64_t rss_repeat_peak = 0;  // KiB, the peak of a second run where RSS stayed up
  double cpu_share = 0;               // the key manager's CPU time over the attack's wall time
  double quiet_again_us = 0;          // the quiet median measured again after the attack
  double first_median_us = 0;         // where the attack ran twice: its first median
  std::string slow;                   // latency over the bound when that is advisory
  std::vector<std::string> wrong;                             // every failure, findings' included
  bool pass() const { return wrong.empty(); }
};

// The good peer's latency with no attack; wrong set if it cannot even do that.
Result measure_quiet(const Target& t, const Bounds& b);
Result run_scenario(const Scenario& s, const Target& t, const Scale& scale, const Latency& quiet, const Bounds& b);

// One line: name, verdict, answer, latency quiet and attacked, RSS.
std::string format_line(const Result& r, const Latency& quiet);

}  // namespace hostile
