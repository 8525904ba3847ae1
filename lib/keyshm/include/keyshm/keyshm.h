// Shared-memory key publication: a key manager (ShmWriter) publishes the
// current, next and previous keys of a gateway's channels in a POSIX
// shared-memory object; readers on the same host (ShmReader) take consistent
// snapshots without locks and without ever blocking the writer. The layout
// and the sequence-lock protocol are described in src/layout.h and README.md.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace keyshm {

inline constexpr std::size_t kMaxMaterial = 1024;
inline constexpr std::string_view kNamePrefix = "keycast-";

// Whether name may name a keycast shared-memory object: "keycast-" followed
// by [A-Za-z0-9._-], at most 255 bytes in all (NAME_MAX without the '/').
bool valid_name(std::string_view name) noexcept;
inline constexpr std::size_t kKeysPerSlot = 3;   // current, next, previous
inline constexpr std::size_t kMaxChannels = 65536;

// Values as kmproto::KeyState; empty marks an unused entry of a slot.
enum class KeyState : std::uint8_t { empty = 0, current = 1, next = 2, previous = 3 };

// One key as published. Material beyond key_length is zero; the destructor
// wipes it.
struct Key {
  std::uint32_t key_id = 0;
  std::uint8_t suite = 0;  // wire-format.md suite id
  KeyState state = KeyState::empty;
  std::uint16_t key_length = 0;
  std::uint32_t lifetime_ms = 0;
  std::uint64_t not_before_ms = 0;  // Unix ms at which the key becomes current
  std::array<std::uint8_t, kMaxMaterial> material{};

  Key() = default;
  Key(const Key&) = default;
  Key& operator=(const Key&) = default;
  ~Key();

  std::span<const std::uint8_t> bytes() const noexcept;
  // False (key unchanged) over kMaxMaterial bytes.
  bool set_material(std::span<const std::uint8_t> m) noexcept;
};

// A channel's keys at one instant, in the order current, next, previous
// (those that exist).
struct Snapshot {
  std::uint32_t channel_id = 0;
  std::uint64_t publish_ms = 0;  // Unix ms of the writer's last change to the slot
  std::size_t count = 0;
  std::array<Key, kKeysPerSlot> keys;

  std::span<const Key> view() const noexcept { return {keys.data(), count}; }
  const Key* find(KeyState s) const noexcept;
};

enum class OpenError : std::uint8_t {
  bad_name,     // not 1..255 bytes of [A-Za-z0-9._-]
  not_found,    // no object of that name
  permissions,  // not owner-only 0600, or not owned by our uid
  bad_layout,   // magic, version, sizes or alignment wrong
  not_ready,    // the writer has not finished initialising it
  exists,       // another writer created the name concurrently
  bad_channels, // duplicate channel ids, or more than kMaxChannels
  system,       // a system call failed (message says which)
};

struct Failure {
  OpenError error = OpenError::system;
  std::string message;
};

enum class PublishResult : std::uint8_t {
  written,          // the slot changed
  unchanged,        // the slot already held exactly these keys
  unknown_channel,  // no slot for the channel
  invalid,          // more than 3 keys, a repeated key id or state, a bad suite or length
};

enum class ReadStatus : std::uint8_t {
  ok,
  busy,        // the writer was mid-update on every bounded attempt; try later
  no_channel,  // the object has no slot for the channel
  corrupt,     // a consistent read of values that fail validation
  closed,      // the writer shut down and wiped the keys
};

enum class WriterStatus : std::uint8_t {
  live,       // the mapped object is the one under the name, not closed
  closed,     // the writer shut down cleanly
  restarted,  // the name now holds a newer object (a new writer): reopen
  gone,       // the name no longer exists
};

// Retries of one read(): an odd sequence (writer mid-update) or a sequence
// that changed during the copy (torn).
struct ReadTrace {
  std::uint32_t odd = 0;
  std::uint32_t torn = 0;
};

class ShmWriter {
 public:
  // Creates /NAME (replacing a stale object of that name) with one slot per
  // channel. Null, with *why, on failure.
  static std::unique_ptr<ShmWriter> create(std::string_view name, std::span<const std::uint32_t> channel_ids,
                                           Failure* why);
  // Wipes every slot, marks the object closed and unlinks the name if it
  // still refers to this object.
  ~ShmWriter();
  ShmWriter(const ShmWriter&) = delete;
  ShmWriter& operator=(const ShmWriter&) = delete;

  // Makes the channel's slot hold exactly `keys` (state != empty, at most
  // one per state); entries of keys that went away are wiped. Only one
  // thread may publish on a writer.
  PublishResult publish(std::uint32_t channel_id, std::span<const Key> keys);

  const std::string& name() const noexcept { return name_; }
  std::uint64_t generation() const noexcept { return generation_; }
  std::size_t channel_count() const noexcept { return index_.size(); }

 private:
  ShmWriter() = default;

  std::string name_;
  std::uint8_t* base_ = nullptr;
  std::size_t size_ = 0;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  std::uint64_t generation_ = 0;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> index_;  // (channel id, slot), sorted
};

class ShmReader {
 public:
  // Maps /NAME read-only after checking that it is a regular object owned by
  // our uid with mode 0600 and that its layout is this library's.
  static std::unique_ptr<ShmReader> open(std::string_view name, Failure* why);
  // A reader over memory the caller provides (tests, fuzzing): the same
  // layout checks against region.size(); region must be 64-byte aligned and
  // outlive the reader.
  static std::unique_ptr<ShmReader> over(std::span<const std::uint8_t> region, Failure* why);
  ~ShmReader();
  ShmReader(const ShmReader&) = delete;
  ShmReader& operator=(const ShmReader&) = delete;

  // A consistent snapshot of the channel's keys, or why not. Never blocks
  // the writer; gives up with busy after a bounded number of retries. May be
  // called from several threads at once. out is fully rewritten on ok.
  ReadStatus read(std::uint32_t channel_id, Snapshot& out, ReadTrace* trace = nullptr) const noexcept;
  // Whether the mapped object is still the writer's current one. A reader
  // from over() can only tell live from closed.
  WriterStatus writer_status() const;

  std::uint64_t generation() const noexcept { return generation_; }
  pid_t writer_pid() const noexcept { return writer_pid_; }
  std::span<const std::uint32_t> channel_ids() const noexcept { return channels_; }

 private:
  ShmReader() = default;
  bool attach(std::span<const std::uint8_t> region, Failure* why);

  std::string name_;  // empty for over()
  const std::uint8_t* base_ = nullptr;
  std::size_t size_ = 0;
  bool mapped_ = false;
  std::uint64_t generation_ = 0;
  pid_t writer_pid_ = 0;
  std::vector<std::uint32_t> channels_;                         // in slot order
  std::vector<std::pair<std::uint32_t, std::uint32_t>> index_;  // (channel id, slot), sorted
};

std::string_view to_string(OpenError e) noexcept;
std::string_view to_string(ReadStatus s) noexcept;
std::string_view to_string(WriterStatus s) noexcept;

}  // namespace keyshm
