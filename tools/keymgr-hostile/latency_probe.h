// The well-behaved peer: one connection, KEY_REQUESTs one at a time, each
// answer's round-trip time recorded; median and 99th percentile.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "target.h"

namespace hostile {

struct Latency {
  std::size_t samples = 0;
  double median_us = 0;
  double p99_us = 0;
  std::vector<std::string> wrong;  // requests not answered with keys
};

class LatencyProbe {
 public:
  // Connects and says HELLO as t.good; ok() false (and why()) otherwise.
  explicit LatencyProbe(const Target& t);
  bool ok() const { return client_ != nullptr; }
  const std::string& why() const { return why_; }

  // Sends HEARTBEATs every third of the idle timeout until `until` is true,
  // so that the connection outlives an attack's setup.
  void keep_alive_until(const std::atomic<bool>& until);
  // `samples` KEY_REQUESTs, `gap` apart.
  Latency measure(std::size_t samples, Ms gap);

 private:
  const Target& target_;
  std::unique_ptr<TestClient> client_;
  std::string why_;
};

}  // namespace hostile
