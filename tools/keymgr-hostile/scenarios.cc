// The scenarios in the order they run, and the connections each holds.
#include "scenario.h"

namespace hostile {

const std::vector<Scenario>& scenarios() {
  static const std::vector<Scenario> all = {
      {"no-hello", "connect and say nothing; HELLO at half the idle timeout, and after it; KEY_REQUEST first",
       Mode::any, no_hello, [](const Scale& s) { return s.silent + 4; }},
      {"wrong-token", "HELLO with a wrong or missing token, an unknown peer, the wrong role", Mode::lab, wrong_token,
       [](const Scale&) -> std::size_t { return 2; }},
      {"wrong-cn", "certificate of the right CA whose CN is no peer or not the peer_id; another CA; none",
       Mode::tls, wrong_cn, [](const Scale&) -> std::size_t { return 2; }},
      {"oversized", "frame headers with message_length over 65536, before and after HELLO", Mode::any, oversized,
       [](const Scale&) -> std::size_t { return 2; }},
      {"truncated", "half a frame then wait (before and after HELLO); a header then close", Mode::any, truncated,
       [](const Scale& s) { return s.half_frames + 2; }},
      {"params-overrun", "a parameter length running past the end of its frame", Mode::any, params_overrun,
       [](const Scale&) -> std::size_t { return 2; }},
      {"slowloris", "frames sent one byte per gap, before and after HELLO", Mode::any, slowloris,
       [](const Scale& s) { return s.slowloris; }},
      {"conns", "many connections at once, each past HELLO and kept alive", Mode::any, conns,
       [](const Scale& s) { return s.connections; }},
      {"flood", "one entitled peer pipelining KEY_REQUESTs as fast as it can; another connection never reads",
       Mode::any, flood, [](const Scale&) -> std::size_t { return 2; }},
  };
  return all;
}

}  // namespace hostile
