// keycast-recv's work once the command line is understood: fetch keys, join,
// receive in recvmmsg batches, descramble, write, and decide the exit code.
#pragma once

#include "options.h"

namespace keycast_recv {

struct RunLimits {
  std::uint32_t timeout_ms = 0;  // 0: wait for packets forever
  std::uint64_t count = 0;       // 0: run until a signal
  std::uint32_t batch = 32;
  std::uint32_t hold_timeout_ms = 50;
};

int run(const Plan& plan, const RunLimits& limits);

}  // namespace keycast_recv
