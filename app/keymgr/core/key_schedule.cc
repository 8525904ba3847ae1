// Key lifecycle arithmetic of a channel.
#include "key_schedule.h"

#include <algorithm>
#include <cmath>

namespace keymgr {

ChannelView classify(std::span<const KeyTimes> keys, std::uint64_t now, std::uint32_t grace_ms) noexcept {
  ChannelView v;
  // The newest key that started and has not ended. A key made current at
  // once (a gateway's KEY_GENERATE of a current key, a promotion) so
  // supersedes an older one yet to start: that one never becomes current.
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const KeyTimes& k = keys[i];
    if (k.not_before_ms <= now && now < k.end_ms()) v.current = i;
  }
  if (v.current) {
    const std::size_t c = *v.current;
    if (c + 1 < keys.size() && keys[c + 1].key_id == keys[c].key_id + 1 && keys[c + 1].not_before_ms > now)
      v.next = c + 1;
    if (now < keys[c].not_before_ms + grace_ms)  // the key senders used before, superseded ones passed over
      for (std::size_t j = c; j-- > 0;)
        if (keys[j].not_before_ms <= now) {
          v.previous = j;
          break;
        }
  } else {
    // A gap: nothing current (no key was made in time: a master down, a
    // gateway that stopped generating). The last key to have started stays
    // previous for as long as the gap lasts, since senders keep using it
    // (degraded mode); a key yet to start is next.
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (keys[i].not_before_ms > now) {
        if (!v.next) v.next = i;
      } else {
        v.previous = i;
      }
    }
  }
  return v;
}

namespace {
// When keys[i] stopped being current: its end, or the start of a key after
// it when that came sooner (a rotation by usage, a key made early, a key
// made current at once).
std::uint64_t stopped_ms(std::span<const KeyTimes> keys, std::size_t i) noexcept {
  std::uint64_t stopped = keys[i].end_ms();
  for (std::size_t j = i + 1; j < keys.size(); ++j) stopped = std::min(stopped, keys[j].not_before_ms);
  return stopped;
}
}  // namespace

bool served_by_id(std::span<const KeyTimes> keys, std::size_t i, const ChannelView& v, std::uint64_t now,
                  std::uint32_t grace_ms) noexcept {
  if (i == v.current || i == v.next || i == v.previous) return true;
  const bool superseded = v.current && i < *v.current;  // a newer key started before it did
  return (keys[i].not_before_ms > now && !superseded) || now < stopped_ms(keys, i) + grace_ms;
}

std::vector<std::uint32_t> keys_to_expire(std::span<const KeyTimes> keys, const ChannelView& v, std::uint64_t now,
                                          std::uint32_t grace_ms) {
  std::vector<std::uint32_t> out;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (!served_by_id(keys, i, v, now, grace_ms)) out.push_back(keys[i].key_id);
  }
  return out;
}

namespace {
std::uint64_t next_key_due_at(const KeyTimes& cur, double threshold_x) noexcept {
  const auto lead = static_cast<std::uint64_t>(std::llround(threshold_x * cur.lifetime_ms));
  const std::uint64_t end = cur.end_ms();
  return end > lead ? end - lead : 0;
}
}  // namespace

Due key_due(std::span<const KeyTimes> keys, const ChannelView& v, std::uint64_t now, double threshold_x) noexcept {
  if (!v.current) return v.next ? Due::nothing : Due::current;
  if (v.next) return Due::nothing;
  return now >= next_key_due_at(keys[*v.current], threshold_x) ? Due::next : Due::nothing;
}

std::uint64_t next_due_ms(std::span<const KeyTimes> keys, const ChannelView& v, std::uint64_t now,
                          double threshold_x) noexcept {
  if (key_due(keys, v, now, threshold_x) != Due::nothing) return now;
  if (v.current && v.next) return keys[*v.next].not_before_ms + 0;  // next becomes current then
  if (v.current) return std::max(now, next_key_due_at(keys[*v.current], threshold_x));
  return v.next ? keys[*v.next].not_before_ms : now;
}

std::uint32_t first_id_after_promotion(const KeyTimes& newest, std::uint32_t in_use, std::uint64_t promoted_ms) noexcept {
  std::uint64_t highest = std::uint64_t{newest.key_id} + 1;  // made ahead of newest's end
  if (promoted_ms > newest.end_ms() && newest.lifetime_ms > 0)
    highest += (promoted_ms - newest.end_ms()) / newest.lifetime_ms + 1;  // one made in each lifetime since
  std::uint64_t first = highest + kPromotionMargin + 1;
  if (((first ^ in_use) & 1) == 0) ++first;  // odd and even keys alternate (TS scrambling control)
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(first, UINT32_MAX));
}

std::uint32_t remaining_ms(const KeyTimes& k, std::uint64_t now) noexcept {
  if (k.not_before_ms > now) return k.lifetime_ms;
  return now >= k.end_ms() ? 0 : static_cast<std::uint32_t>(k.end_ms() - now);
}

}  // namespace keymgr
