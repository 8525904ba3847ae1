// LatencyProbe: timed KEY_REQUESTs from the good peer.
#include "latency_probe.h"

#include <algorithm>
#include <thread>

namespace hostile {

using Clock = std::chrono::steady_clock;

LatencyProbe::LatencyProbe(const Target& t) : target_(t) { client_ = connect_peer(t, t.good, &why_); }

void LatencyProbe::keep_alive_until(const std::atomic<bool>& until) {
  const Ms beat = std::max(Ms(10), target_.idle_timeout / 3);
  auto last = Clock::now();
  while (!until.load()) {
    if (Clock::now() - last >= beat) {
      client_->send(heartbeat_frame());
      last = Clock::now();
    }
    std::this_thread::sleep_for(Ms(5));
  }
}

Latency LatencyProbe::measure(std::size_t samples, Ms gap) {
  Latency l;
  std::vector<double> us;
  const auto request = key_request_frame(target_.channel);
  for (std::size_t i = 0; i < samples; ++i) {
    const auto t0 = Clock::now();
    std::optional<OwnedFrame> a;
    if (client_->send(request)) a = client_->read();
    const auto t1 = Clock::now();
    if (!is_answer(a, kKeyRequest)) {
      if (l.wrong.size() < 3) l.wrong.push_back("KEY_REQUEST " + std::to_string(i) + " of the good peer: " + describe(a));
      if (!a) break;  // closed or stalled: the rest would say the same
      continue;
    }
    us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    std::this_thread::sleep_for(gap);
  }
  l.samples = us.size();
  if (us.empty()) return l;
  std::sort(us.begin(), us.end());
  l.median_us = us[us.size() / 2];
  l.p99_us = us[std::min(us.size() - 1, us.size() * 99 / 100)];
  return l;
}

}  // namespace hostile
