// The live (unexpired) keys of every channel, kept in memory in key_id order
// so requests are answered without touching the store; the store stays the
// authority and this is rebuilt from it at start.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "core/key_schedule.h"
#include "store/key_store.h"

namespace keymgr {

struct LiveKey {
  KeyTimes times;
  std::uint8_t suite = 0;
  store::KeyMaterial material;
};

class LiveKeys {
 public:
  // Loads every configured channel's unexpired keys.
  store::Result<void> load(store::KeyStore& store, const std::vector<std::uint32_t>& channels);

  std::vector<LiveKey>& of(std::uint32_t channel_id) { return keys_[channel_id]; }
  // The times of a channel's keys, for key_schedule.
  std::vector<KeyTimes> times(std::uint32_t channel_id);
  const LiveKey* find(std::uint32_t channel_id, std::uint32_t key_id);
  void insert(std::uint32_t channel_id, LiveKey key);
  void erase(std::uint32_t channel_id, std::uint32_t key_id);

 private:
  std::map<std::uint32_t, std::vector<LiveKey>> keys_;
};

}  // namespace keymgr
