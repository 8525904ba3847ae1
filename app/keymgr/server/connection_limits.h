// Limits that every key manager connection enforces.
#pragma once

#include <chrono>
#include <cstddef>

namespace keymgr {

struct ConnectionLimits {
  std::chrono::milliseconds idle_timeout{30000};  // no complete frame for this long: closed
  std::size_t max_connections = 20000;
  std::size_t max_pending_output = 4u << 20;       // stop reading while more than this waits to be sent
};

}  // namespace keymgr
