// place_by_id (see key_by_id.h).
#include "key_by_id.h"

namespace gateway {

ByIdPlace place_by_id(std::uint32_t key_id, std::uint32_t current, std::optional<std::uint32_t> next,
                      std::optional<std::uint32_t> previous) noexcept {
  if (key_id == current || key_id == next || key_id == previous) return ByIdPlace::held;
  if (static_cast<std::int32_t>(current - key_id) > 1) return ByIdPlace::too_old;
  if (key_id == current + 1) return ByIdPlace::next;
  if (next && static_cast<std::int32_t>(key_id - *next) > 0) return ByIdPlace::step_forward;
  if (static_cast<std::int32_t>(key_id - current) > 1) return ByIdPlace::new_current;
  return ByIdPlace::previous;
}

}  // namespace gateway
