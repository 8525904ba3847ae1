// Keys for the keyshm tests whose every field follows from (channel, key_id),
// so a reader can tell a consistent snapshot from a torn one, and unique
// shared-memory names per test process.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "keyshm/keyshm.h"

namespace keyshm::test {

inline std::string unique_name(const std::string& what) {
  static std::atomic<int> n{0};
  return "keycast-test-" + what + "-" + std::to_string(getpid()) + "-" + std::to_string(n++);
}

inline std::uint8_t material_byte(std::uint32_t key_id, std::size_t i) {
  return static_cast<std::uint8_t>(key_id * 7 + i * 13);
}

// suite xor (any length 1..1024)
inline Key make_key(std::uint32_t channel, std::uint32_t key_id, KeyState state) {
  Key k;
  k.key_id = key_id;
  k.suite = 1;
  k.state = state;
  k.key_length = static_cast<std::uint16_t>(1 + (key_id * 37u) % 1024u);
  k.lifetime_ms = key_id * 3 + 1;
  k.not_before_ms = std::uint64_t{key_id} * 1000 + channel;
  for (std::size_t i = 0; i < k.key_length; ++i) k.material[i] = material_byte(key_id, i);
  return k;
}

// current k, next k + 1 and previous k - 1; only the current one when `alone`.
inline std::vector<Key> rotation(std::uint32_t channel, std::uint32_t k, bool alone = false) {
  std::vector<Key> keys{make_key(channel, k, KeyState::current)};
  if (!alone) {
    keys.push_back(make_key(channel, k + 1, KeyState::next));
    keys.push_back(make_key(channel, k - 1, KeyState::previous));
  }
  return keys;
}

// Empty if every field of k is what make_key gives for its id; else what is off.
inline std::string inconsistency(std::uint32_t channel, const Key& k) {
  const Key want = make_key(channel, k.key_id, k.state);
  if (k.suite != want.suite) return "suite";
  if (k.key_length != want.key_length) return "key_length";
  if (k.lifetime_ms != want.lifetime_ms) return "lifetime_ms";
  if (k.not_before_ms != want.not_before_ms) return "not_before_ms";
  if (k.material != want.material) return "material";
  return {};
}

// Empty if the snapshot is a rotation() of its channel; else what is off.
inline std::string snapshot_inconsistency(std::uint32_t channel, const Snapshot& s) {
  if (s.channel_id != channel) return "channel_id";
  if (s.count != 1 && s.count != 3) return "count " + std::to_string(s.count);
  const Key* cur = s.find(KeyState::current);
  if (!cur) return "no current key";
  if (s.count == 3) {
    const Key* next = s.find(KeyState::next);
    const Key* prev = s.find(KeyState::previous);
    if (!next || !prev || next->key_id != cur->key_id + 1 || prev->key_id != cur->key_id - 1) return "key ids";
  }
  for (const Key& k : s.view())
    if (auto why = inconsistency(channel, k); !why.empty()) return "key " + std::to_string(k.key_id) + ": " + why;
  return {};
}

// Whether the bytes of the object under name contain `needle` (for wipes).
inline bool object_contains(const std::string& name, const std::vector<std::uint8_t>& needle) {
  const int fd = shm_open(("/" + name).c_str(), O_RDONLY, 0);
  if (fd < 0) return false;
  const off_t size = lseek(fd, 0, SEEK_END);
  void* p = mmap(nullptr, static_cast<std::size_t>(size), PROT_READ, MAP_SHARED, fd, 0);
  close(fd);
  if (p == MAP_FAILED) return false;
  const std::string hay(static_cast<const char*>(p), static_cast<std::size_t>(size));
  munmap(p, static_cast<std::size_t>(size));
  return hay.find(std::string(needle.begin(), needle.end())) != std::string::npos;
}

}  // namespace keyshm::test
