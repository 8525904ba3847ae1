// Why the receiver drops a datagram, declared once: every pktparse::Status
// (same numeric values, so a Status converts by cast) followed by the
// receiver's own reasons. A drop without a counter is a bug.
#pragma once

#include <cstddef>
#include <cstdint>

#include "pktparse/status.h"

namespace keycast {

#define KEYCAST_RECV_DROP_LIST(X)                                                        \
  X(unknown_channel, "channel not configured (or beyond max_learned_channels)")                               \
  X(suite_unexpected, "datagram suite differs from the channel's configured suite")     \
  X(key_too_old, "key_id older than the previous key (or than the key before current)")  \
  X(key_expired, "previous key's grace period is over")                                  \
  X(key_unavailable, "key manager could not supply the key")                             \
  X(hold_overflow, "hold queue full while waiting for a key")                            \
  X(hold_timeout, "held longer than the hold timeout while waiting for a key")            \
  X(key_too_far_ahead, "key_id beyond key_window of the newest key held, not among the current keys")  \
  X(replayed, "GCM datagram whose key_id and seq were already delivered")                \
  X(replay_too_old, "GCM seq further behind the newest of its key than the replay window")

#define KEYCAST_DROP_LIST(X) PKTPARSE_STATUS_LIST(X) KEYCAST_RECV_DROP_LIST(X)

enum class Drop : std::uint8_t {
#define KEYCAST_DROP_ENUM(name, text) name,
  KEYCAST_DROP_LIST(KEYCAST_DROP_ENUM)
#undef KEYCAST_DROP_ENUM
};

inline constexpr std::size_t kDropCount = 0
#define KEYCAST_DROP_COUNT(name, text) +1
    KEYCAST_DROP_LIST(KEYCAST_DROP_COUNT)
#undef KEYCAST_DROP_COUNT
    ;

inline Drop drop_from(pktparse::Status s) noexcept { return static_cast<Drop>(s); }

// Identifier-style name ("hold_timeout") and one line for people.
const char* drop_name(Drop d) noexcept;
const char* drop_text(Drop d) noexcept;

}  // namespace keycast
