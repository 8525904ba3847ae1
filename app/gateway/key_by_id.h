// Where a key a descrambling channel fetched by id goes among its previous,
// current and next keys (KeyControl::install), decided from the ids alone.
// The control thread learns of the input's switches only through the
// worker's events, so a key beyond next (a lagging input catching up, its
// notices naming keys ahead) steps forward and keeps next rather than
// replacing both, which the input may still use. Only keys the input
// prompted come here (by id, or the key manager's current and next for a
// datagram far ahead); the fetches of the control thread's own schedule go
// through KeyControl::take. The receiver library, whose fetches all go one
// way, prompted or not, keeps a key beyond current + 1 as next until a
// datagram uses it (lib/keycast src/key_slots.cc).
#pragma once

#include <cstdint>
#include <optional>

namespace gateway {

enum class ByIdPlace : std::uint8_t {
  held,          // it is previous, current or next already
  too_old,       // older than the key before current: the workers refuse it
  previous,      // the key before current (late datagrams)
  next,          // current + 1
  step_forward,  // beyond next: previous <- current <- next, it is next
  new_current,   // beyond current + 1 with no next below it: current; next kept if it follows
};

ByIdPlace place_by_id(std::uint32_t key_id, std::uint32_t current, std::optional<std::uint32_t> next,
                      std::optional<std::uint32_t> previous) noexcept;

}  // namespace gateway
