// The counters keycast-recv prints on SIGUSR1 and at exit: one "name value"
// line each, the receiver library's events, every non-zero drop reason, key
// fetches and their latency, and the application's own.
#pragma once

#include <cstdint>
#include <ostream>

#include "keycast/receiver.h"

namespace keycast_recv {

struct AppCounters {
  std::uint64_t socket_datagrams = 0;
  std::uint64_t wrong_channel = 0;  // a join's datagram of another channel than its --channel
  std::uint64_t written = 0;
  // From the first datagram received to the first clear one written: what a
  // join waited for its key (0 until both happened).
  std::uint64_t first_clear_after_us = 0;
};

void print_counters(std::ostream& os, const keycast::Counters& c, const AppCounters& app);

}  // namespace keycast_recv
