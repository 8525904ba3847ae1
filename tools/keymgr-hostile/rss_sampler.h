// The key manager's resident memory (VmRSS of /proc/PID/status), sampled by a
// thread for its peak.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <thread>

namespace hostile {

// VmRSS in KiB; 0 if the process or the line is missing.
std::uint64_t rss_kib(pid_t pid);

class RssSampler {
 public:
  // Samples every 20 ms from now until destruction (pid 0: does nothing).
  explicit RssSampler(pid_t pid);
  ~RssSampler();
  std::uint64_t peak_kib() const { return peak_.load(); }

 private:
  pid_t pid_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> peak_{0};
  std::thread thread_;
};

}  // namespace hostile
