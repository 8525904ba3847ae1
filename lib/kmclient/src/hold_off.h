// Endpoints that gave no answer in time, and until when each is left alone:
// the first timeout holds an endpoint off for `first`, each further one in a
// row doubles that up to `max`, and an answer ends it (gRPC's reconnect
// backoff, without the jitter: one client per thread, nothing to spread).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <vector>

#include "connection.h"

namespace kmclient::detail {

class HoldOff {
 public:
  using ms = std::chrono::milliseconds;

  HoldOff(std::size_t endpoints, ms first, ms max) : first_(first), max_(std::max(first, max)), state_(endpoints) {}

  void timed_out(std::size_t i, Clock::time_point now) {
    if (first_.count() <= 0) return;
    State& s = state_[i];
    s.length = s.length.count() == 0 ? first_ : std::min(max_, 2 * s.length);
    s.until = now + s.length;
  }
  void answered(std::size_t i) { state_[i] = State{}; }
  // What is left of endpoint i's hold-off at now; zero when it may be dialled.
  ms left(std::size_t i, Clock::time_point now) const {
    const Clock::time_point until = state_[i].until;
    return until > now ? std::chrono::ceil<ms>(until - now) : ms{0};
  }

 private:
  struct State {
    ms length{0};  // of the current hold-off; zero after an answer
    Clock::time_point until{};
  };

  ms first_;
  ms max_;
  std::vector<State> state_;
};

}  // namespace kmclient::detail
