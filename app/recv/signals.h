// keycast-recv's signals, shared with bench/udp-forward: SIGUSR1 asks for the
// counters, SIGINT/SIGTERM for a clean stop, SIGPIPE is ignored (a write
// error says it). Without SA_RESTART, so a blocking receive returns EINTR and
// the loop sees the flag at once.
#pragma once

#include <csignal>

namespace keycast_recv {

extern volatile std::sig_atomic_t g_usr1;  // set by SIGUSR1; the loop clears it
extern volatile std::sig_atomic_t g_stop;  // set by SIGINT and SIGTERM

void install_signals();

}  // namespace keycast_recv
