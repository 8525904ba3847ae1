// Where each key of a channel stands at a given time (current, next,
// previous-within-grace, or due to expire), and what the key manager must make
// next for a channel whose keys it originates. Pure time arithmetic.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace keymgr {

struct KeyTimes {
  std::uint32_t key_id = 0;
  std::uint64_t not_before_ms = 0;  // Unix ms at which it becomes current
  std::uint32_t lifetime_ms = 0;
  std::uint64_t end_ms() const noexcept { return not_before_ms + lifetime_ms; }
};

// Indices into the span given to classify(); nullopt where there is none.
struct ChannelView {
  std::optional<std::size_t> current;   // newest key that has started and not ended
  std::optional<std::size_t> next;      // the key after current, not started yet
  std::optional<std::size_t> previous;  // the started key before current, within grace of the switch; in a gap, the last started
  // The key senders use: current, or in a gap the last started (degraded).
  std::optional<std::size_t> in_use() const noexcept { return current ? current : previous; }
};

// keys: a channel's live keys in rising key_id order.
ChannelView classify(std::span<const KeyTimes> keys, std::uint64_t now_ms, std::uint32_t grace_ms) noexcept;

// Whether keys[i] is still served when asked for by id: current, next,
// previous, or a key that stopped being current (it ended, or the key after
// it started) less than grace_ms ago, for inputs that lag by more than one
// short key (architecture.md: "keymgr keeps k a while for late requests by id").
bool served_by_id(std::span<const KeyTimes> keys, std::size_t i, const ChannelView& v, std::uint64_t now_ms,
                  std::uint32_t grace_ms) noexcept;

// Keys that are none of current, next or previous, and stopped being current
// (ended, or were superseded) more than grace_ms ago: to be expired and wiped.
std::vector<std::uint32_t> keys_to_expire(std::span<const KeyTimes> keys, const ChannelView& v,
                                          std::uint64_t now_ms, std::uint32_t grace_ms);

enum class Due { nothing, current, next };

// For a channel of origin keymgr: a current key when there is none; the next
// key once the current one's remaining time is at or below threshold_x of its
// lifetime.
Due key_due(std::span<const KeyTimes> keys, const ChannelView& v, std::uint64_t now_ms, double threshold_x) noexcept;

// When key_due() will next say something other than nothing, if the keys stay
// as they are (for timers). now_ms when something is due already.
std::uint64_t next_due_ms(std::span<const KeyTimes> keys, const ChannelView& v, std::uint64_t now_ms,
                          double threshold_x) noexcept;

// After a replica's store was promoted to a master's at promoted_ms: the id
// of the key that then starts at once on a channel whose newest key
// (`newest`, as stored) came from the old master, superseding `in_use`, the
// key senders use. The old master may have made keys this store never
// received: the next one, made ahead of newest's end, and one per lifetime
// after that end until promoted_ms (it can have lived no longer), plus
// kPromotionMargin for keys made out of turn (a gateway's KEY_GENERATE of a
// current key, a usage budget spent early). Ids from the one returned on are
// this master's alone; its parity differs from in_use's, as a switch's does.
inline constexpr std::uint32_t kPromotionMargin = 2;
std::uint32_t first_id_after_promotion(const KeyTimes& newest, std::uint32_t in_use, std::uint64_t promoted_ms) noexcept;

// Remaining effective time of a key at now (0 once ended); for a key not yet
// started, its whole lifetime (keymgr-protocol.md key_record.remaining_ms).
std::uint32_t remaining_ms(const KeyTimes& k, std::uint64_t now_ms) noexcept;

}  // namespace keymgr
