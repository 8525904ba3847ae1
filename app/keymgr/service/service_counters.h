// What the key manager counts: requests by message type, errors by code, keys
// made. Read by the metrics endpoint and printed at exit.
#pragma once

#include <array>
#include <cstdint>

namespace keymgr {

struct ServiceCounters {
  std::array<std::uint64_t, 9> requests{};  // by message type 1..8 (index = type)
  std::array<std::uint64_t, 10> errors{};   // by error code 1..9
  std::uint64_t keys_made = 0;
  std::uint64_t keys_pushed = 0;
  std::uint64_t keys_expired = 0;
  std::uint64_t hello_refused = 0;
  std::uint64_t store_failures = 0;
};

}  // namespace keymgr
