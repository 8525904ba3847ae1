// The live (unexpired) keys of every channel, kept in memory in key_id order
// so requests are answered without touching the store; the store stays the
// authority and this is rebuilt from it at start. The keys are in secret
// memory (secmem), wiped when they expire or move.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "core/key_schedule.h"
#include "secmem/allocator.h"
#include "store/key_store.h"

namespace keymgr {

struct LiveKey {
  KeyTimes times;
  std::uint8_t suite = 0;
  store::KeyMaterial material;
  std::uint64_t ticket = 0;  // the store write that made it (KeyService); 0: loaded, on the disk
};

using LiveKeyList = std::vector<LiveKey, secmem::Allocator<LiveKey>>;

class LiveKeys {
 public:
  // Loads every configured channel's unexpired keys.
  store::Result<void> load(store::KeyStore& store, const std::vector<std::uint32_t>& channels);

  LiveKeyList& of(std::uint32_t channel_id) { return keys_[channel_id].keys; }
  // The times of a channel's keys, for key_schedule; valid until the next change.
  std::span<const KeyTimes> times(std::uint32_t channel_id) { return keys_[channel_id].times; }
  const LiveKey* find(std::uint32_t channel_id, std::uint32_t key_id);
  void insert(std::uint32_t channel_id, LiveKey key);
  void erase(std::uint32_t channel_id, std::uint32_t key_id);

 private:
  struct Channel {
    LiveKeyList keys;             // by key_id
    std::vector<KeyTimes> times;  // keys[i].times, kept beside them
  };
  void sync_times(Channel& c);
  std::map<std::uint32_t, Channel> keys_;
};

}  // namespace keymgr
