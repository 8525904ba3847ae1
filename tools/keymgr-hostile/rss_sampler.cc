// RssSampler: reads /proc/PID/status.
#include "rss_sampler.h"

#include <chrono>
#include <fstream>
#include <string>

namespace hostile {

std::uint64_t rss_kib(pid_t pid) {
  if (pid <= 0) return 0;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
  return 0;
}

RssSampler::RssSampler(pid_t pid) : pid_(pid) {
  if (pid_ <= 0) return;
  peak_ = rss_kib(pid_);
  thread_ = std::thread([this] {
    while (!stop_.load()) {
      const std::uint64_t now = rss_kib(pid_);
      if (now > peak_.load()) peak_ = now;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
}

RssSampler::~RssSampler() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

}  // namespace hostile
