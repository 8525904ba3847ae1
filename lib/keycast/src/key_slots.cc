// Key selection and placement for one channel (see key_slots.h).
#include "key_slots.h"

#include <utility>

namespace keycast::detail {

KeySlots::Select KeySlots::select(std::uint32_t key_id, Clock::time_point now, SlotKey*& slot) noexcept {
  if (cur_.key && cur_.id() == key_id) {
    slot = &cur_;
    return Select::found;
  }
  if (next_.key && next_.id() == key_id) {
    slot = &next_;
    return Select::found_next;
  }
  if (prev_.key && prev_.id() == key_id) {
    if (now < prev_until_) {
      slot = &prev_;
      return Select::found;
    }
    expire(now);
    return Select::expired;
  }
  if (expired_id_ != 0 && key_id <= expired_id_) return key_id == expired_id_ ? Select::expired : Select::too_old;
  // Older than current: too old behind a previous key; without one (just
  // joined, the key manager already a key ahead of the sender) only the key
  // just before current may still be in use, asked for by id like any
  // unknown key.
  if (cur_.key && key_id < cur_.id() && (prev_.key ? key_id < prev_.id() : key_id + 1 < cur_.id())) {
    return Select::too_old;
  }
  const SlotKey* newest = next_.key ? &next_ : cur_.key ? &cur_ : prev_.key ? &prev_ : nullptr;
  if (newest && key_id > newest->id() && key_id - newest->id() > window_) return Select::too_far_ahead;
  return Select::unknown;
}

void KeySlots::switch_to_next(Clock::time_point now) {
  if (!next_.key) return;
  retire_current(now);
  cur_ = std::move(next_);
  next_ = SlotKey{};
  cur_end_ = now + std::chrono::milliseconds(cur_.remaining_ms);
}

void KeySlots::retire_current(Clock::time_point now) {
  if (!cur_.key) return;
  prev_ = std::move(cur_);
  cur_ = SlotKey{};
  prev_until_ = now + grace_;
}

void KeySlots::install(SlotKey k, KeyRole role, Clock::time_point now, std::chrono::milliseconds grace) {
  grace_ = grace;
  const std::uint32_t id = k.id();
  if (holds(id)) return;
  if (!cur_.key) {
    if (role == KeyRole::current) {
      cur_end_ = k.received + std::chrono::milliseconds(k.remaining_ms);
      cur_ = std::move(k);
      if (next_.key && next_.id() <= cur_.id()) next_ = SlotKey{};
    } else if (role == KeyRole::next) {
      next_ = std::move(k);
    } else {
      prev_ = std::move(k);
      prev_until_ = now + grace_;
    }
    return;
  }
  if (id > cur_.id()) {
    if (next_.key && id > next_.id()) {
      // Keys went by that we never used: step forward, the old next current.
      retire_current(now);
      cur_ = std::move(next_);
      cur_end_ = now;
    }
    next_ = std::move(k);
    return;
  }
  if (!prev_.key || id > prev_.id()) {
    prev_ = std::move(k);
    prev_until_ = now + grace_;
  }
}

void KeySlots::expire(Clock::time_point now) noexcept {
  if (prev_.key && now >= prev_until_) {
    expired_id_ = prev_.id();
    prev_ = SlotKey{};
  }
}

bool KeySlots::holds(std::uint32_t key_id) const noexcept {
  return (cur_.key && cur_.id() == key_id) || (next_.key && next_.id() == key_id) ||
         (prev_.key && prev_.id() == key_id);
}

}  // namespace keycast::detail
