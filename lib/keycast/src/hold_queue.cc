// HoldQueue (see hold_queue.h).
#include "hold_queue.h"

#include <algorithm>
#include <utility>

namespace keycast::detail {

bool HoldQueue::push(std::span<const std::uint8_t> datagram, std::uint32_t key_id,
                     std::chrono::steady_clock::time_point now) {
  if (q_.size() >= limit_) return false;
  Held h;
  if (!spare_.empty()) {
    h.bytes = std::move(spare_.back());
    spare_.pop_back();
  }
  h.bytes.assign(datagram.begin(), datagram.end());
  h.key_id = key_id;
  h.arrived = now;
  q_.push_back(std::move(h));
  return true;
}

void HoldQueue::pop_front() {
  spare_.push_back(std::move(q_.front().bytes));
  q_.pop_front();
}

std::size_t HoldQueue::remove_key(std::uint32_t key_id) {
  const auto before = q_.size();
  q_.erase(std::remove_if(q_.begin(), q_.end(), [&](const Held& h) { return h.key_id == key_id; }), q_.end());
  return before - q_.size();
}

bool HoldQueue::waits_for(std::uint32_t key_id) const noexcept {
  return std::any_of(q_.begin(), q_.end(), [&](const Held& h) { return h.key_id == key_id; });
}

}  // namespace keycast::detail
