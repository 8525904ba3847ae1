// Live connection count shared by a listener and its connections, for the
// connection cap.
#pragma once

#include <cstddef>

namespace keymgr {

class ConnectionCounter {
 public:
  std::size_t live() const noexcept { return live_; }
  void opened() noexcept { ++live_; }
  void closed() noexcept { --live_; }

 private:
  std::size_t live_ = 0;
};

}  // namespace keymgr
