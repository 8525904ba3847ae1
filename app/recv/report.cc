// print_counters (see report.h).
#include "report.h"

namespace keycast_recv {

void print_counters(std::ostream& os, const keycast::Counters& c, const AppCounters& app) {
  os << "keycast-recv counters:\n";
  os << "  socket_datagrams " << app.socket_datagrams << "\n";
  for (std::size_t i = 0; i < keycast::kEventCount; ++i) {
    os << "  " << keycast::event_name(static_cast<keycast::Event>(i)) << " " << c.events[i] << "\n";
  }
  for (std::size_t i = 0; i < keycast::kDropCount; ++i) {
    if (c.drops[i] != 0) os << "  drop." << keycast::drop_name(static_cast<keycast::Drop>(i)) << " " << c.drops[i] << "\n";
  }
  os << "  wrong_channel " << app.wrong_channel << "\n";
  os << "  written " << app.written << "\n";
  os << "  first_clear_after_us " << app.first_clear_after_us << "\n";
  os << "  fetch_answers " << c.fetches_answered << "\n";
  const auto avg = c.fetches_answered ? c.fetch_latency_us_sum / c.fetches_answered : 0;
  os << "  fetch_latency_avg_us " << avg << "\n";
  os << "  fetch_latency_max_us " << c.fetch_latency_us_max << "\n";
  os.flush();
}

}  // namespace keycast_recv
