// place_key (see keycast/key_placement.h).
#include "keycast/key_placement.h"

namespace keycast {

KeyPlace place_key(std::uint32_t key_id, std::uint32_t current, std::optional<std::uint32_t> next,
                   std::optional<std::uint32_t> previous) noexcept {
  if (key_id == current || key_id == next || key_id == previous) return KeyPlace::held;
  if (static_cast<std::int32_t>(current - key_id) > 1) return KeyPlace::too_old;
  if (key_id == current + 1) return KeyPlace::next;
  if (next && static_cast<std::int32_t>(key_id - *next) > 0) return KeyPlace::step_forward;
  if (static_cast<std::int32_t>(key_id - current) > 1) return KeyPlace::new_current;
  return KeyPlace::previous;
}

}  // namespace keycast
