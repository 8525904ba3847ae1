// Token bucket arithmetic.
#include "rate_limiter.h"

#include <algorithm>

namespace keymgr {

bool RateLimiter::allow(const std::string& peer_id, std::uint64_t now_ms) {
  auto [it, fresh] = buckets_.try_emplace(peer_id, Bucket{burst_, now_ms});
  Bucket& b = it->second;
  if (!fresh && now_ms > b.at_ms) {
    b.tokens = std::min(burst_, b.tokens + rate_ * static_cast<double>(now_ms - b.at_ms) / 1000.0);
    b.at_ms = now_ms;
  }
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

}  // namespace keymgr
