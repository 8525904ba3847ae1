// Per-channel limits on key fetches, so that forged datagrams cannot make a
// receiver flood its key manager: a token bucket for the fetches a datagram
// prompts, and a fixed-size set of the fetches in flight. No allocation.
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace keycast {

// `burst` fetches at once, then `per_second`.
class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;
  TokenBucket(double burst, double per_second) : burst_(std::max(burst, 1.0)), rate_(per_second), tokens_(burst_) {}

  bool take(Clock::time_point now) noexcept {
    if (now > last_) {  // batch times may come slightly out of order: never refill backwards
      if (last_ != Clock::time_point{}) {
        tokens_ = std::min(burst_, tokens_ + rate_ * std::chrono::duration<double>(now - last_).count());
      }
      last_ = now;
    }
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

 private:
  double burst_;
  double rate_;
  double tokens_;
  Clock::time_point last_{};
};

// Key ids asked for and not answered yet: current-and-next (key id 0), and
// up to kMaxById by id.
class InFlight {
 public:
  static constexpr std::size_t kMaxById = 8;

  bool has(std::uint32_t key_id) const noexcept {
    return key_id == 0 ? current_and_next_ : index(key_id) < n_;
  }
  // False when key_id is by id and kMaxById are already in flight.
  bool add(std::uint32_t key_id) noexcept {
    if (key_id == 0) return current_and_next_ = true;
    if (n_ == kMaxById) return false;
    ids_[n_++] = key_id;
    return true;
  }
  void remove(std::uint32_t key_id) noexcept {
    if (key_id == 0) {
      current_and_next_ = false;
      return;
    }
    if (const auto i = index(key_id); i < n_) ids_[i] = ids_[--n_];
  }

 private:
  std::size_t index(std::uint32_t key_id) const noexcept {
    std::size_t i = 0;
    while (i < n_ && ids_[i] != key_id) ++i;
    return i;
  }

  std::array<std::uint32_t, kMaxById> ids_{};
  std::size_t n_ = 0;
  bool current_and_next_ = false;
};

}  // namespace keycast
