// Per-peer token buckets: `rate` requests per second with bursts of `burst`,
// shared by all of a peer's connections.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

namespace keymgr {

class RateLimiter {
 public:
  RateLimiter(std::uint32_t rate, std::uint32_t burst) noexcept : rate_(rate), burst_(burst) {}
  // Takes one token for peer_id at now_ms; false when its bucket is empty.
  bool allow(const std::string& peer_id, std::uint64_t now_ms);

 private:
  struct Bucket {
    double tokens;
    std::uint64_t at_ms;
  };
  double rate_;
  double burst_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace keymgr
