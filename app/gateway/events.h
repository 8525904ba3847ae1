// What a worker tells the control thread, through its SP/SC rte_ring: key
// switches (with the finished key's usage when scrambling), degraded ends,
// final usage at stop, and keys a descrambling worker does not hold. Fixed size, copied by value into the ring.
#pragma once

#include <cstdint>

namespace gateway {

struct Event {
  enum class Kind : std::uint32_t {
    switched,     // key_id finished (packets/bytes under it); now on next_key_id
    degraded,     // key_id ended with no next key: kept in use
    final_usage,  // stopping while on key_id (packets/bytes so far)
    need_key,     // descramble: key_id arrived (DATA or NEXT_KEY_ID) and is not in the channel's KeySet;
                  // key_id 0: one far ahead did, ask which keys are current
  };
  Kind kind = Kind::switched;
  std::uint32_t channel_id = 0;
  std::uint32_t key_id = 0;
  std::uint32_t next_key_id = 0;
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;  // clear UDP payload bytes scrambled under key_id
};
static_assert(sizeof(Event) == 32);

}  // namespace gateway
