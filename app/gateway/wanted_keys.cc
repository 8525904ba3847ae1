// WantedKeys: a few keys asked for by id, with tries and backoff.
#include "wanted_keys.h"

#include <algorithm>

namespace gateway {

WantedKeys::Want* WantedKeys::find(std::uint32_t key_id) noexcept {
  auto it = std::find_if(wants_.begin(), wants_.end(), [&](const Want& w) { return w.key_id == key_id; });
  return it == wants_.end() ? nullptr : &*it;
}

const WantedKeys::Want* WantedKeys::find(std::uint32_t key_id) const noexcept {
  return const_cast<WantedKeys*>(this)->find(key_id);
}

bool WantedKeys::add(std::uint32_t key_id, std::uint64_t now_ms, std::uint32_t* displaced) {
  *displaced = 0;
  if (key_id == 0 || find(key_id)) return false;
  Want* slot = find(0);
  if (!slot) {
    slot = &*std::max_element(wants_.begin(), wants_.end(),
                              [](const Want& a, const Want& b) { return a.tries < b.tries; });
    *displaced = slot->key_id;
  }
  *slot = {key_id, 0, now_ms};
  return true;
}

bool WantedKeys::contains(std::uint32_t key_id) const noexcept { return key_id != 0 && find(key_id); }

void WantedKeys::remove(std::uint32_t key_id) noexcept {
  if (Want* w = key_id ? find(key_id) : nullptr) *w = {};
}

std::vector<std::uint32_t> WantedKeys::due(std::uint64_t now_ms) const {
  std::vector<std::uint32_t> ids;
  for (const Want& w : wants_)
    if (w.key_id && now_ms >= w.due_ms) ids.push_back(w.key_id);
  return ids;
}

bool WantedKeys::after(std::uint32_t key_id, Outcome o, std::uint64_t now_ms) noexcept {
  Want* w = key_id ? find(key_id) : nullptr;
  if (!w) return false;
  switch (o) {
    case Outcome::got:
      *w = {};
      return false;
    case Outcome::busy:
      w->due_ms = now_ms;
      return false;
    case Outcome::held_off:
      w->due_ms = now_ms + kBackoffMs;
      return false;
    case Outcome::failed:
      if (++w->tries >= kTries) {
        *w = {};
        return true;
      }
      w->due_ms = now_ms + (kBackoffMs << (w->tries - 1));
      return false;
  }
  return false;
}

unsigned WantedKeys::tries(std::uint32_t key_id) const noexcept {
  const Want* w = key_id ? find(key_id) : nullptr;
  return w ? w->tries : 0;
}

bool WantedKeys::empty() const noexcept {
  return std::all_of(wants_.begin(), wants_.end(), [](const Want& w) { return w.key_id == 0; });
}

}  // namespace gateway
