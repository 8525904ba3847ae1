// The bytes of a keycast shared-memory key object, and the atomic accessors
// both sides use on them. Native byte order: writer and readers share a host.
//
//   offset  size  header (64 bytes)
//        0     8  magic "KCSHM001"
//        8     4  layout version (1)
//       12     4  header size (64)
//       16     4  slot count N
//       20     4  slot size (3328)
//       24     4  writer pid
//       28     4  state: 0 initialising, 1 live, 2 closed (wiped)
//       32     8  generation: differs for every object the writer creates
//                 under a name (> the stale one's, >= CLOCK_REALTIME ns)
//       40     8  created, Unix ms
//       48    16  reserved, zero
//
//   64 + i * 3328: slot i, one per channel, 64-byte aligned
//        0     8  seq: even when stable, odd while the writer changes the slot
//        8     4  channel_id (fixed when the object is created)
//       12     4  reserved
//       16     8  publish time, Unix ms of the last change
//       24    40  reserved
//       64  3 x 1088  entries, each 64-byte aligned:
//                  0   4  key_id
//                  4   1  suite (wire-format.md id)
//                  5   1  state: 0 empty, 1 current, 2 next, 3 previous
//                  6   2  key_length (<= 1024)
//                  8   4  lifetime_ms
//                 12   4  reserved
//                 16   8  not_before_ms, absolute Unix ms
//                 24  40  reserved
//                 64 1024 material; zero beyond key_length
//
// One slot holds all three keys of a channel so that a reader sees a
// rotation (next becomes current, current becomes previous) as one step,
// never a channel with two currents or none. A key keeps its entry for its
// whole life: a rotation rewrites only the state bytes, and material is
// written once per key.
//
// Every field is read and written through std::atomic_ref (8-byte words for
// the material). The writer's stores inside the lock are release stores and
// the readers' loads acquire loads: on x86-64 these are plain moves, and
// unlike std::atomic_thread_fence (which ThreadSanitizer does not model; GCC
// rejects it under -fsanitize=thread -Werror) they order the protocol by
// themselves. See writer.cc and reader.cc.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "keyshm/keyshm.h"

namespace keyshm::detail {

inline constexpr char kMagic[8] = {'K', 'C', 'S', 'H', 'M', '0', '0', '1'};
inline constexpr std::uint32_t kLayoutVersion = 1;

enum : std::uint32_t { kStateInitialising = 0, kStateLive = 1, kStateClosed = 2 };

struct Header {
  std::uint64_t magic;  // kMagic's bytes
  std::uint32_t version;
  std::uint32_t header_size;
  std::uint32_t slot_count;
  std::uint32_t slot_size;
  std::uint32_t writer_pid;
  std::uint32_t state;
  std::uint64_t generation;
  std::uint64_t created_ms;
  std::uint64_t reserved[2];
};

struct alignas(64) Entry {
  std::uint32_t key_id;
  std::uint8_t suite;
  std::uint8_t state;
  std::uint16_t key_length;
  std::uint32_t lifetime_ms;
  std::uint32_t reserved0;
  std::uint64_t not_before_ms;
  std::uint64_t reserved1[5];
  std::uint64_t material[kMaxMaterial / 8];
};

struct alignas(64) Slot {
  std::uint64_t seq;
  std::uint32_t channel_id;
  std::uint32_t reserved0;
  std::uint64_t publish_ms;
  std::uint64_t reserved1[5];
  Entry entries[kKeysPerSlot];
};

static_assert(sizeof(Header) == 64);
static_assert(sizeof(Entry) == 1088 && offsetof(Entry, material) == 64);
static_assert(sizeof(Slot) == 3328 && offsetof(Slot, entries) == 64);
static_assert(std::is_standard_layout_v<Slot> && std::is_trivially_copyable_v<Slot>);
static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic_ref<std::uint64_t>::required_alignment == alignof(std::uint64_t));

inline constexpr std::size_t kHeaderSize = sizeof(Header);
inline constexpr std::size_t kSlotSize = sizeof(Slot);

inline std::uint64_t magic_word() noexcept {
  std::uint64_t w;
  std::memcpy(&w, kMagic, sizeof w);
  return w;
}

// Readers only ever load; the const_cast lets std::atomic_ref (which has no
// const form in C++20) load from a read-only mapping.
template <class T>
T load(const T& x, std::memory_order o) noexcept {
  return std::atomic_ref<T>(const_cast<T&>(x)).load(o);
}
template <class T>
void store(T& x, T v, std::memory_order o) noexcept {
  std::atomic_ref<T>(x).store(v, o);
}

inline const Slot& slot_at(const std::uint8_t* base, std::size_t i) noexcept {
  return *reinterpret_cast<const Slot*>(base + kHeaderSize + i * kSlotSize);
}
inline Slot& slot_at(std::uint8_t* base, std::size_t i) noexcept {
  return *reinterpret_cast<Slot*>(base + kHeaderSize + i * kSlotSize);
}
inline const Header& header_of(const std::uint8_t* base) noexcept { return *reinterpret_cast<const Header*>(base); }
inline Header& header_of(std::uint8_t* base) noexcept { return *reinterpret_cast<Header*>(base); }

}  // namespace keyshm::detail
