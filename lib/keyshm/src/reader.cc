// ShmReader: opens and checks the object, takes seqlocked snapshots.
//
// Reader side of the protocol, per read (bounded attempts, never a lock):
//   s1 = seq (acquire); odd: the writer is inside, retry
//   copy every field and material word with acquire loads, lengths clamped
//   s2 = seq; ordered after the copies by their acquire
//   s1 != s2: torn, retry; else validate what was copied (shared memory is
//   an input: suite, state, key_length) and hand it out.
// A copy that raced a write saw at least one of the writer's release stores,
// hence its odd seq, so s2 differs; a torn key is never accepted.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <thread>

#include "common.h"
#include "layout.h"

namespace keyshm {

namespace {

using namespace detail;
constexpr auto acquire = std::memory_order_acquire;
constexpr int kAttempts = 256;
constexpr int kSpinAttempts = 64;  // then yield between attempts

void backoff(int attempt) noexcept {
  if (attempt >= kSpinAttempts) {
    std::this_thread::yield();
    return;
  }
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Copies one entry; material beyond the (clamped) length is zeroed.
void copy_entry(const Entry& e, Key& k) noexcept {
  k.key_id = load(e.key_id, acquire);
  k.suite = load(e.suite, acquire);
  k.state = static_cast<KeyState>(load(e.state, acquire));
  k.key_length = load(e.key_length, acquire);
  k.lifetime_ms = load(e.lifetime_ms, acquire);
  k.not_before_ms = load(e.not_before_ms, acquire);
  const std::size_t len = std::min<std::size_t>(k.key_length, kMaxMaterial);
  for (std::size_t w = 0; w < kMaxMaterial / 8; ++w) {
    const std::uint64_t word = w * 8 < len ? load(e.material[w], acquire) : 0;
    std::memcpy(k.material.data() + w * 8, &word, 8);
  }
  std::memset(k.material.data() + len, 0, kMaxMaterial - len);  // the last word's tail
}

int order(KeyState s) noexcept { return s == KeyState::empty ? 4 : static_cast<int>(s); }

// Validates a consistent copy and puts the keys in state order.
ReadStatus finish(std::uint32_t channel_id, Snapshot& out) noexcept {
  if (out.channel_id != channel_id) return ReadStatus::corrupt;
  unsigned seen = 0;
  for (Key& k : out.keys) {
    const auto state = static_cast<std::uint8_t>(k.state);
    if (state == 0) continue;
    if (!key_valid(k.suite, state, k.key_length) || (seen & (1u << state))) return ReadStatus::corrupt;
    seen |= 1u << state;
    ++out.count;
  }
  std::sort(out.keys.begin(), out.keys.end(),
            [](const Key& a, const Key& b) { return order(a.state) < order(b.state); });
  return ReadStatus::ok;
}

struct Mapping {
  const void* p = MAP_FAILED;
  std::size_t size = 0;
  ~Mapping() {
    if (p != MAP_FAILED) munmap(const_cast<void*>(p), size);
  }
};

}  // namespace

std::unique_ptr<ShmReader> ShmReader::open(std::string_view name, Failure* why) {
  std::string path;
  if (!shm_path(name, &path, why)) return nullptr;
  const int fd = shm_open(path.c_str(), O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) {
    if (errno == ENOENT)
      set_failure(why, OpenError::not_found, "no shared-memory object " + path + " (is the key manager publishing it?)");
    else
      set_failure(why, errno == EACCES ? OpenError::permissions : OpenError::system, sys_error("cannot open " + path));
    return nullptr;
  }
  struct stat st {};
  const bool stat_ok = fstat(fd, &st) == 0;
  Mapping m;
  if (stat_ok && S_ISREG(st.st_mode) && st.st_uid == geteuid() && (st.st_mode & 07777) == 0600 &&
      st.st_size >= static_cast<off_t>(kHeaderSize)) {
    m.size = static_cast<std::size_t>(st.st_size);
    m.p = mmap(nullptr, m.size, PROT_READ, MAP_SHARED, fd, 0);
  }
  const int map_errno = errno;
  close(fd);
  if (!stat_ok) {
    set_failure(why, OpenError::system, sys_error("cannot stat " + path));
    return nullptr;
  }
  if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
    set_failure(why, OpenError::permissions,
                path + " is owned by uid " + std::to_string(st.st_uid) + ", not by this process's uid " +
                    std::to_string(geteuid()) + "; refusing its keys");
    return nullptr;
  }
  if ((st.st_mode & 07777) != 0600) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    set_failure(why, OpenError::permissions,
                path + " has mode " + mode + "; key objects must be owner-only (0600); refusing its keys");
    return nullptr;
  }
  if (st.st_size < static_cast<off_t>(kHeaderSize)) {
    set_failure(why, OpenError::not_ready, path + " is still being created (size " + std::to_string(st.st_size) + ")");
    return nullptr;
  }
  if (m.p == MAP_FAILED) {
    errno = map_errno;
    set_failure(why, OpenError::system, sys_error("cannot map " + path));
    return nullptr;
  }
  madvise(const_cast<void*>(m.p), m.size, MADV_DONTDUMP);
  auto r = std::unique_ptr<ShmReader>(new ShmReader);
  r->name_ = path;
  if (!r->attach({static_cast<const std::uint8_t*>(m.p), m.size}, why)) {
    if (why) why->message = path + ": " + why->message;
    return nullptr;
  }
  r->mapped_ = true;
  m.p = MAP_FAILED;  // the reader owns the mapping now
  return r;
}

std::unique_ptr<ShmReader> ShmReader::over(std::span<const std::uint8_t> region, Failure* why) {
  auto r = std::unique_ptr<ShmReader>(new ShmReader);
  if (!r->attach(region, why)) return nullptr;
  return r;
}

bool ShmReader::attach(std::span<const std::uint8_t> region, Failure* why) {
  if (reinterpret_cast<std::uintptr_t>(region.data()) % 64 != 0)
    return set_failure(why, OpenError::bad_layout, "region is not 64-byte aligned");
  if (region.size() < kHeaderSize)
    return set_failure(why, OpenError::bad_layout, "region of " + std::to_string(region.size()) +
                                                       " bytes is smaller than the header");
  const Header& h = header_of(region.data());
  const std::uint32_t state = load(h.state, acquire);
  const std::uint64_t magic = load(h.magic, relaxed);
  if (state == kStateInitialising && (magic == 0 || magic == magic_word()))
    return set_failure(why, OpenError::not_ready, "the writer is still initialising it");
  if (magic != magic_word()) return set_failure(why, OpenError::bad_layout, "not a keycast key object (magic)");
  const std::uint32_t version = load(h.version, relaxed);
  if (version != kLayoutVersion)
    return set_failure(why, OpenError::bad_layout, "layout version " + std::to_string(version) +
                                                       ", this reader knows " + std::to_string(kLayoutVersion));
  const std::uint32_t header_size = load(h.header_size, relaxed), slot_size = load(h.slot_size, relaxed);
  if (header_size != kHeaderSize || slot_size != kSlotSize)
    return set_failure(why, OpenError::bad_layout, "header size " + std::to_string(header_size) + " / slot size " +
                                                       std::to_string(slot_size) + ", expected " +
                                                       std::to_string(kHeaderSize) + " / " + std::to_string(kSlotSize));
  const std::uint32_t count = load(h.slot_count, relaxed);
  if (count > kMaxChannels || kHeaderSize + std::size_t{count} * kSlotSize > region.size())
    return set_failure(why, OpenError::bad_layout, std::to_string(count) + " slots do not fit in " +
                                                       std::to_string(region.size()) + " bytes");
  if (state != kStateLive && state != kStateClosed)
    return set_failure(why, OpenError::bad_layout, "unknown object state " + std::to_string(state));

  base_ = region.data();
  size_ = region.size();
  generation_ = load(h.generation, relaxed);
  writer_pid_ = static_cast<pid_t>(load(h.writer_pid, relaxed));
  channels_.clear();
  index_.clear();
  for (std::uint32_t i = 0; i < count; ++i) {
    channels_.push_back(load(slot_at(base_, i).channel_id, relaxed));
    index_.emplace_back(channels_.back(), i);
  }
  std::sort(index_.begin(), index_.end());
  if (std::adjacent_find(index_.begin(), index_.end(), [](const auto& a, const auto& b) {
        return a.first == b.first;
      }) != index_.end())
    return set_failure(why, OpenError::bad_layout, "a channel has two slots");
  return true;
}

ShmReader::~ShmReader() {
  if (mapped_) munmap(const_cast<std::uint8_t*>(base_), size_);
}

ReadStatus ShmReader::read(std::uint32_t channel_id, Snapshot& out, ReadTrace* trace) const noexcept {
  out.count = 0;
  const long at = find_slot(index_, channel_id);
  if (at < 0) return ReadStatus::no_channel;
  if (load(header_of(base_).state, acquire) == kStateClosed) return ReadStatus::closed;
  const Slot& s = slot_at(base_, static_cast<std::size_t>(at));
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    const std::uint64_t s1 = load(s.seq, acquire);
    if (s1 & 1) {
      if (trace) ++trace->odd;
      backoff(attempt);
      continue;
    }
    out.channel_id = load(s.channel_id, acquire);
    out.publish_ms = load(s.publish_ms, acquire);
    for (std::size_t e = 0; e < kKeysPerSlot; ++e) copy_entry(s.entries[e], out.keys[e]);
    if (load(s.seq, relaxed) != s1) {
      if (trace) ++trace->torn;
      backoff(attempt);
      continue;
    }
    return finish(channel_id, out);
  }
  return ReadStatus::busy;
}

WriterStatus ShmReader::writer_status() const {
  if (load(header_of(base_).state, acquire) == kStateClosed) return WriterStatus::closed;
  if (name_.empty()) return WriterStatus::live;
  const int fd = shm_open(name_.c_str(), O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) return errno == ENOENT ? WriterStatus::gone : WriterStatus::restarted;
  struct stat st {};
  WriterStatus status = WriterStatus::restarted;  // a new object not yet initialised counts as one
  if (fstat(fd, &st) == 0 && st.st_size >= static_cast<off_t>(kHeaderSize)) {
    void* p = mmap(nullptr, kHeaderSize, PROT_READ, MAP_SHARED, fd, 0);
    if (p != MAP_FAILED) {
      const Header& h = header_of(static_cast<const std::uint8_t*>(p));
      if (load(h.magic, relaxed) == magic_word() && load(h.generation, relaxed) == generation_)
        status = WriterStatus::live;
      munmap(p, kHeaderSize);
    }
  }
  close(fd);
  return status;
}

}  // namespace keyshm
