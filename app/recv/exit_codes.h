// keycast-recv's exit codes, as --help states them.
#pragma once

namespace keycast_recv {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;       // a socket or output failed
inline constexpr int kExitBadArguments = 2;
inline constexpr int kExitNoPackets = 3;     // nothing within --timeout-ms
inline constexpr int kExitUnreachable = 4;   // no key manager answered
inline constexpr int kExitNotEntitled = 5;   // refused: not entitled, unknown channel, bad credentials

}  // namespace keycast_recv
