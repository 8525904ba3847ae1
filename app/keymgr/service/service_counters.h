// What the key manager counts: requests by message type, errors by code, keys
// made, answer, store write and sync latency. Read by the metrics endpoint and printed at exit.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>

namespace keymgr {

// Latencies in fixed buckets, the metrics endpoint's histogram.
struct LatencyBuckets {
  static constexpr std::array<double, 12> kBounds{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                  0.01,   0.025,   0.05,   0.1,   0.25,   1.0};  // seconds
  std::array<std::uint64_t, kBounds.size() + 1> counts{};  // (kBounds[i-1], kBounds[i]]; last: above all
  double sum_seconds = 0;
  double max_seconds = 0;
  std::uint64_t count = 0;

  void observe(double seconds) noexcept {
    std::size_t i = 0;
    while (i < kBounds.size() && seconds > kBounds[i]) ++i;
    ++counts[i];
    sum_seconds += seconds;
    if (seconds > max_seconds) max_seconds = seconds;
    ++count;
  }
  // Runs write() and observes how long it took; returns what it returned.
  template <class F>
  auto time(F&& write) {
    const auto start = std::chrono::steady_clock::now();
    auto r = write();
    observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return r;
  }
};

struct ServiceCounters {
  std::array<std::uint64_t, 9> requests{};  // by message type 1..8 (index = type)
  std::array<std::uint64_t, 10> errors{};   // by error code 1..9
  std::uint64_t keys_made = 0;
  std::uint64_t keys_pushed = 0;
  std::uint64_t keys_expired = 0;
  std::uint64_t hello_refused = 0;
  std::uint64_t store_failures = 0;
  std::uint64_t retention_deleted = 0;     // rows (server.retention_days)
  LatencyBuckets store_write;               // put_key, apply, add_usage, apply_replicated, expire_key, prune
  LatencyBuckets store_sync;                // the WAL's fdatasync, off the serving thread
  LatencyBuckets answer;                    // a burst of frames read to its answers sent (RequestHandler::answered)
};

}  // namespace keymgr
