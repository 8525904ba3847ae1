// ShmWriter: creates the object and publishes slots under the sequence lock.
//
// Writer side of the protocol, per changed slot (one writer thread):
//   seq = s + 1 (odd; relaxed)        readers that see it retry
//   field and material stores          each a release store, so a reader that
//                                      sees any of them also sees seq odd
//   seq = s + 2 (even; release)        publishes everything above
// A slot whose keys are exactly those already there is left alone.
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>

#include "common.h"
#include "layout.h"

namespace keyshm {

namespace {

using namespace detail;
constexpr auto release = std::memory_order_release;

// The generation of an object of ours already under the name, or 0.
std::uint64_t stale_generation(const std::string& path) {
  const int fd = shm_open(path.c_str(), O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) return 0;
  std::uint64_t gen = 0;
  struct stat st {};
  if (fstat(fd, &st) == 0 && st.st_size >= static_cast<off_t>(kHeaderSize)) {
    void* p = mmap(nullptr, kHeaderSize, PROT_READ, MAP_SHARED, fd, 0);
    if (p != MAP_FAILED) {
      const Header& h = header_of(static_cast<const std::uint8_t*>(p));
      if (load(h.magic, relaxed) == magic_word()) gen = load(h.generation, relaxed);
      munmap(p, kHeaderSize);
    }
  }
  close(fd);
  return gen;
}

bool same_key(const Entry& e, const Key& k) {
  if (load(e.state, relaxed) == 0 || load(e.key_id, relaxed) != k.key_id || load(e.suite, relaxed) != k.suite ||
      load(e.key_length, relaxed) != k.key_length)
    return false;
  const auto bytes = k.bytes();
  for (std::size_t w = 0; w * 8 < bytes.size(); ++w) {
    std::uint64_t word = 0;
    std::memcpy(&word, bytes.data() + w * 8, std::min<std::size_t>(8, bytes.size() - w * 8));
    if (load(e.material[w], relaxed) != word) return false;
  }
  return true;
}

bool same_times(const Entry& e, const Key& k) {
  return load(e.state, relaxed) == static_cast<std::uint8_t>(k.state) &&
         load(e.lifetime_ms, relaxed) == k.lifetime_ms && load(e.not_before_ms, relaxed) == k.not_before_ms;
}

void write_times(Entry& e, const Key& k) {
  store(e.state, static_cast<std::uint8_t>(k.state), release);
  store(e.lifetime_ms, k.lifetime_ms, release);
  store(e.not_before_ms, k.not_before_ms, release);
}

void write_key(Entry& e, const Key& k) {
  store(e.key_id, k.key_id, release);
  store(e.suite, k.suite, release);
  store(e.key_length, k.key_length, release);
  write_times(e, k);
  const auto bytes = k.bytes();
  for (std::size_t w = 0; w < kMaxMaterial / 8; ++w) {
    std::uint64_t word = 0;
    if (w * 8 < bytes.size()) std::memcpy(&word, bytes.data() + w * 8, std::min<std::size_t>(8, bytes.size() - w * 8));
    store(e.material[w], word, release);
  }
}

// The wipe of a key that went away. Atomic stores rather than explicit_bzero:
// readers may be copying the entry at this moment, and stores other threads
// can observe are never dropped as dead.
void clear_entry(Entry& e) { write_key(e, Key{}); }

// At most one key per state, distinct ids, each valid.
bool valid_set(std::span<const Key> keys) {
  if (keys.size() > kKeysPerSlot) return false;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (!key_valid(keys[i].suite, static_cast<std::uint8_t>(keys[i].state), keys[i].key_length)) return false;
    for (std::size_t j = 0; j < i; ++j)
      if (keys[j].state == keys[i].state || keys[j].key_id == keys[i].key_id) return false;
  }
  return true;
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

}  // namespace

std::unique_ptr<ShmWriter> ShmWriter::create(std::string_view name, std::span<const std::uint32_t> channel_ids,
                                             Failure* why) {
  std::string path;
  if (!shm_path(name, &path, why)) return nullptr;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> index;
  for (std::size_t i = 0; i < channel_ids.size(); ++i) index.emplace_back(channel_ids[i], static_cast<std::uint32_t>(i));
  std::sort(index.begin(), index.end());
  const bool dup = std::adjacent_find(index.begin(), index.end(),
                                      [](const auto& a, const auto& b) { return a.first == b.first; }) != index.end();
  if (dup || index.size() > kMaxChannels) {
    set_failure(why, OpenError::bad_channels, path + ": channel ids must be distinct, at most 65536");
    return nullptr;
  }

  const std::uint64_t generation = std::max(stale_generation(path) + 1, unix_ns());
  if (shm_unlink(path.c_str()) != 0 && errno != ENOENT) {
    set_failure(why, OpenError::system, sys_error("cannot remove the stale " + path));
    return nullptr;
  }
  Fd fd{shm_open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)};
  if (fd.fd < 0) {
    set_failure(why, errno == EEXIST ? OpenError::exists : OpenError::system, sys_error("cannot create " + path));
    return nullptr;
  }
  auto fail = [&](const std::string& what) {
    set_failure(why, OpenError::system, sys_error(what + " " + path));
    shm_unlink(path.c_str());
    return nullptr;
  };
  const std::size_t size = kHeaderSize + index.size() * kSlotSize;
  struct stat st {};
  if (fchmod(fd.fd, 0600) != 0) return fail("cannot chmod");
  if (ftruncate(fd.fd, static_cast<off_t>(size)) != 0) return fail("cannot size");
  if (fstat(fd.fd, &st) != 0) return fail("cannot stat");
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.fd, 0);
  if (p == MAP_FAILED) return fail("cannot map");
  madvise(p, size, MADV_DONTDUMP);

  auto w = std::unique_ptr<ShmWriter>(new ShmWriter);
  w->name_ = path;
  w->base_ = static_cast<std::uint8_t*>(p);
  w->size_ = size;
  w->dev_ = st.st_dev;
  w->ino_ = st.st_ino;
  w->generation_ = generation;
  w->index_ = std::move(index);
  for (std::size_t i = 0; i < channel_ids.size(); ++i) store(slot_at(w->base_, i).channel_id, channel_ids[i], relaxed);
  Header& h = header_of(w->base_);
  store(h.magic, magic_word(), relaxed);
  store(h.version, kLayoutVersion, relaxed);
  store(h.header_size, static_cast<std::uint32_t>(kHeaderSize), relaxed);
  store(h.slot_count, static_cast<std::uint32_t>(channel_ids.size()), relaxed);
  store(h.slot_size, static_cast<std::uint32_t>(kSlotSize), relaxed);
  store(h.writer_pid, static_cast<std::uint32_t>(getpid()), relaxed);
  store(h.generation, generation, relaxed);
  store(h.created_ms, unix_ms(), relaxed);
  store(h.state, std::uint32_t{kStateLive}, release);
  return w;
}

ShmWriter::~ShmWriter() {
  for (std::size_t i = 0; i < index_.size(); ++i) {
    Slot& s = slot_at(base_, i);
    const std::uint64_t seq = load(s.seq, relaxed);
    store(s.seq, seq + 1, relaxed);
    for (Entry& e : s.entries) clear_entry(e);
    store(s.publish_ms, unix_ms(), release);
    store(s.seq, seq + 2, release);
  }
  store(header_of(base_).state, std::uint32_t{kStateClosed}, release);
  munmap(base_, size_);
  // Unlink only our own object: a newer writer may have replaced it.
  const int fd = shm_open(name_.c_str(), O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) return;
  struct stat st {};
  const bool ours = fstat(fd, &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_;
  close(fd);
  if (ours) shm_unlink(name_.c_str());
}

PublishResult ShmWriter::publish(std::uint32_t channel_id, std::span<const Key> keys) {
  const long at = find_slot(index_, channel_id);
  if (at < 0) return PublishResult::unknown_channel;
  if (!valid_set(keys)) return PublishResult::invalid;
  Slot& s = slot_at(base_, static_cast<std::size_t>(at));

  // A key keeps the entry that already holds it; new keys take entries
  // whose keys went away.
  std::array<int, kKeysPerSlot> entry_of{-1, -1, -1};
  std::array<bool, kKeysPerSlot> taken{}, fresh{};
  for (std::size_t k = 0; k < keys.size(); ++k)
    for (std::size_t e = 0; e < kKeysPerSlot && entry_of[k] < 0; ++e)
      if (!taken[e] && same_key(s.entries[e], keys[k])) {
        entry_of[k] = static_cast<int>(e);
        taken[e] = true;
      }
  bool changed = false;
  for (std::size_t k = 0; k < keys.size(); ++k) {
    if (entry_of[k] < 0) {
      const auto e = static_cast<std::size_t>(std::find(taken.begin(), taken.end(), false) - taken.begin());
      entry_of[k] = static_cast<int>(e);
      taken[e] = fresh[k] = changed = true;
    } else if (!same_times(s.entries[static_cast<std::size_t>(entry_of[k])], keys[k])) {
      changed = true;
    }
  }
  for (std::size_t e = 0; e < kKeysPerSlot; ++e) changed = changed || (!taken[e] && load(s.entries[e].state, relaxed));
  if (!changed) return PublishResult::unchanged;

  const std::uint64_t seq = load(s.seq, relaxed);
  store(s.seq, seq + 1, relaxed);
  for (std::size_t k = 0; k < keys.size(); ++k) {
    Entry& e = s.entries[static_cast<std::size_t>(entry_of[k])];
    if (fresh[k])
      write_key(e, keys[k]);
    else if (!same_times(e, keys[k]))
      write_times(e, keys[k]);
  }
  for (std::size_t e = 0; e < kKeysPerSlot; ++e)
    if (!taken[e] && load(s.entries[e].state, relaxed)) clear_entry(s.entries[e]);
  store(s.publish_ms, unix_ms(), release);
  store(s.seq, seq + 2, release);
  return PublishResult::written;
}

}  // namespace keyshm
