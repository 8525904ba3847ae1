// LiveKeys: load from the store, keep in key_id order.
#include "live_keys.h"

#include <algorithm>

namespace keymgr {

store::Result<void> LiveKeys::load(store::KeyStore& store, const std::vector<std::uint32_t>& channels) {
  keys_.clear();
  for (const std::uint32_t ch : channels) {
    auto rows = store.keys_of_channel(ch);
    if (!rows) return rows.failure();
    auto& c = keys_[ch];
    auto& v = c.keys;
    for (const auto& r : *rows) {
      LiveKey k;
      k.times = {r.key.key_id, r.key.not_before_ms, r.key.lifetime_ms};
      k.suite = r.key.suite;
      k.material = r.key.material;
      v.push_back(std::move(k));
    }
    sync_times(c);
  }
  return {};
}

void LiveKeys::sync_times(Channel& c) {
  c.times.clear();
  for (const auto& k : c.keys) c.times.push_back(k.times);
}

const LiveKey* LiveKeys::find(std::uint32_t channel_id, std::uint32_t key_id) {
  for (const auto& k : keys_[channel_id].keys)
    if (k.times.key_id == key_id) return &k;
  return nullptr;
}

void LiveKeys::insert(std::uint32_t channel_id, LiveKey key) {
  auto& c = keys_[channel_id];
  auto& v = c.keys;
  const auto at = std::lower_bound(v.begin(), v.end(), key.times.key_id,
                                   [](const LiveKey& k, std::uint32_t id) { return k.times.key_id < id; });
  if (at != v.end() && at->times.key_id == key.times.key_id) {
    *at = std::move(key);
  } else {
    v.insert(at, std::move(key));
  }
  sync_times(c);
}

void LiveKeys::erase(std::uint32_t channel_id, std::uint32_t key_id) {
  auto& c = keys_[channel_id];
  std::erase_if(c.keys, [&](const LiveKey& k) { return k.times.key_id == key_id; });
  sync_times(c);
}

}  // namespace keymgr
