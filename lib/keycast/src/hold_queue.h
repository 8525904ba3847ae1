// A channel's bounded queue of datagrams waiting for their key, in arrival
// order. Buffers are kept for reuse, so a steady hold does not allocate.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <vector>

namespace keycast::detail {

struct Held {
  std::vector<std::uint8_t> bytes;
  std::uint32_t key_id = 0;
  std::chrono::steady_clock::time_point arrived{};
};

class HoldQueue {
 public:
  explicit HoldQueue(std::size_t limit) : limit_(limit) {}

  bool empty() const noexcept { return q_.empty(); }
  std::size_t size() const noexcept { return q_.size(); }
  // False when full.
  bool push(std::span<const std::uint8_t> datagram, std::uint32_t key_id, std::chrono::steady_clock::time_point now);
  Held& front() { return q_.front(); }
  void pop_front();
  // Removes every entry waiting for key_id; returns how many.
  std::size_t remove_key(std::uint32_t key_id);
  bool waits_for(std::uint32_t key_id) const noexcept;

 private:
  std::deque<Held> q_;
  std::vector<std::vector<std::uint8_t>> spare_;
  std::size_t limit_;
};

}  // namespace keycast::detail
