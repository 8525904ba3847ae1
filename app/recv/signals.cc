// install_signals (see signals.h).
#include "signals.h"

namespace keycast_recv {

volatile std::sig_atomic_t g_usr1 = 0;
volatile std::sig_atomic_t g_stop = 0;

namespace {
extern "C" void on_usr1(int) { g_usr1 = 1; }
extern "C" void on_stop(int) { g_stop = 1; }
}  // namespace

void install_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_usr1;
  ::sigaction(SIGUSR1, &sa, nullptr);
  sa.sa_handler = on_stop;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

}  // namespace keycast_recv
