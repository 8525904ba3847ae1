// Where a key fetched for a channel goes among its previous, current and next
// keys, decided from the ids alone: one rule for the receiver library's key
// slots (src/key_slots.cc) and the descrambling gateway's key control. Each
// moves its own keys and times as the place says. A key beyond next (a
// lagging input catching up, its notices naming keys ahead) steps forward
// and keeps next rather than replacing both, which the input may still use;
// one beyond current + 1 with no next below it (the input moved past our
// keys, or a promoted key manager skipped ids) becomes current. Ids compare
// modulo 2^32, as serial numbers.
#pragma once

#include <cstdint>
#include <optional>

namespace keycast {

enum class KeyPlace : std::uint8_t {
  held,          // it is previous, current or next already
  too_old,       // older than the key before current: refused
  previous,      // the key before current (late datagrams)
  next,          // current + 1, or below a next further ahead (which it replaces)
  step_forward,  // beyond next: previous <- current <- next, it is next
  new_current,   // beyond current + 1 with no next below it: current; next kept if it follows
};

KeyPlace place_key(std::uint32_t key_id, std::uint32_t current, std::optional<std::uint32_t> next,
                   std::optional<std::uint32_t> previous) noexcept;

}  // namespace keycast
