// Waiting for the key manager to close connections, many at once: poll()
// for the peer's FIN or reset (POLLRDHUP), which works under TLS too where
// unread records (session tickets) make a socket readable without data.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "target.h"

namespace hostile {

using Clock = std::chrono::steady_clock;

// True if the key manager closes c within timeout.
bool wait_closed(const TestClient& c, Ms timeout);

// Sends bytes and waits for the answer and the close: the documented answer
// to a frame that ends the connection. Describes what came in *seen.
bool answered_then_closed(TestClient& c, const std::vector<std::uint8_t>& bytes, std::uint16_t error_code,
                          std::string* seen);

class CloseWatch {
 public:
  struct Entry {
    std::unique_ptr<TestClient> client;
    Clock::time_point since;  // the last complete frame (or connect)
    std::optional<Clock::time_point> closed_at;
  };
  void add(std::unique_ptr<TestClient> c, Clock::time_point since);
  // Polls the open ones for up to timeout; records close times.
  void poll(Ms timeout);
  bool all_closed() const { return open_ == 0; }
  std::vector<Entry>& entries() { return entries_; }
  // Checks every entry closed between `min` and `max` after its `since`;
  // returns the earliest and latest close in ms, as "a-b ms".
  std::string check_window(Ms min, Ms max, const std::string& what, std::vector<std::string>& wrong) const;

 private:
  std::vector<Entry> entries_;
  std::size_t open_ = 0;
};

}  // namespace hostile
