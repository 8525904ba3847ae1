// The secret-memory pool: chunk-aligned mappings whose first 64 bytes say
// what they hold (a size class of small blocks, or one large block), so a
// block's chunk is found from its address alone and free() needs no size.
#include "secmem/pool.h"

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "secmem/asan.h"
#include "secmem/wipe.h"

#if defined(SECMEM_ASAN)
#include <sanitizer/lsan_interface.h>
#endif

namespace secmem {

namespace {

constexpr std::size_t kChunk = 256 * 1024;  // mappings are aligned to this
constexpr std::size_t kHeader = 64;          // at the start of every mapping
constexpr std::uint64_t kMagic = 0x6b63736563726574;  // "kcsecret"
constexpr std::uint32_t kLarge = 0xffffffff;

// Locked memory is capped: a peer that makes the key manager hold many TLS
// connections must not pin gigabytes (or hit RLIMIT_MEMLOCK for the keys
// proper). Past the cap, memory is kept out of dumps but may be swapped.
constexpr std::size_t kLockBudget = 64 * 1024 * 1024;
std::atomic<std::size_t> locked_bytes{0};

struct MapHeader {
  std::uint64_t magic;
  std::uint32_t size_class;  // index into kClasses, or kLarge
  bool locked;               // counted in locked_bytes
  std::size_t mapped;        // bytes mapped, header included
};
static_assert(sizeof(MapHeader) <= kHeader);

// 16, 32, 48, then multiples of 64 (so 64-byte alignment comes free), four
// steps per doubling from 256 up: at most a quarter of a block is slack.
constexpr std::size_t kNumClasses = 35;
constexpr std::array<std::size_t, kNumClasses> kClasses = [] {
  std::array<std::size_t, kNumClasses> c{16, 32, 48, 64, 128, 192, 256};
  std::size_t i = 7;
  for (std::size_t p = 256; i < kNumClasses; p *= 2)
    for (std::size_t q : {5, 6, 7, 8}) c[i++] = p * q / 4;
  return c;
}();
constexpr std::size_t kMaxSmall = kClasses.back();
static_assert(kMaxSmall == 32 * 1024 && (kChunk - kHeader) / kMaxSmall >= 7);

struct Pool {
  std::mutex mu;
  std::array<void*, kNumClasses> free_list{};           // wiped blocks, linked through their first word
  std::array<std::uint8_t*, kNumClasses> carve{};       // the class's chunk being cut up
  std::array<std::uint8_t*, kNumClasses> carve_end{};
};

Pool& pool() {
  // Never destroyed: OpenSSL frees from atexit handlers that run after
  // static destructors.
  static Pool* const p = [] {
    auto* made = new Pool;
    // A fork while another thread holds the lock must not leave the child's
    // pool locked forever.
    pthread_atfork([] { pool().mu.lock(); }, [] { pool().mu.unlock(); }, [] { pool().mu.unlock(); });
    return made;
  }();
  return *p;
}

std::size_t page_size() {
  static const auto n = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  return n;
}

// Locks [p, p+len) if the budget and the system allow.
bool lock_within_budget(void* p, std::size_t len) noexcept {
  std::size_t now = locked_bytes.load(std::memory_order_relaxed);
  do {
    if (now + len > kLockBudget) return false;
  } while (!locked_bytes.compare_exchange_weak(now, now + len, std::memory_order_relaxed));
  if (mlock(p, len) == 0) return true;
  locked_bytes.fetch_sub(len, std::memory_order_relaxed);
  return false;
}

// len bytes (a multiple of the page size) aligned to kChunk, out of dumps;
// locked (see kLockBudget) tells whether they are also locked in RAM.
std::uint8_t* map_secret(std::size_t len, bool& locked) noexcept {
  const std::size_t span = len + kChunk;
  void* raw = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const auto start = reinterpret_cast<std::uintptr_t>(raw);
  const std::uintptr_t at = (start + kChunk - 1) & ~(kChunk - 1);
  if (at > start) munmap(raw, at - start);
  if (start + span > at + len) munmap(reinterpret_cast<void*>(at + len), start + span - (at + len));
  auto* p = reinterpret_cast<std::uint8_t*>(at);
  if (madvise(p, len, MADV_DONTDUMP) != 0) {  // refuse memory we cannot keep out of dumps
    munmap(p, len);
    return nullptr;
  }
  locked = lock_within_budget(p, len);
#if defined(SECMEM_ASAN)
  __lsan_register_root_region(p, len);  // LeakSanitizer looks for pointers in it too
#endif
  return p;
}

void unmap_secret(void* p, std::size_t len, bool locked) noexcept {
#if defined(SECMEM_ASAN)
  __lsan_unregister_root_region(p, len);
#endif
  munmap(p, len);
  if (locked) locked_bytes.fetch_sub(len, std::memory_order_relaxed);
}

MapHeader& header_of(const void* block) noexcept {
  auto* h = reinterpret_cast<MapHeader*>(reinterpret_cast<std::uintptr_t>(block) & ~(kChunk - 1));
  if (h->magic != kMagic) {
    std::fputs("secmem: a block that is not secret memory was freed\n", stderr);
    std::abort();
  }
  return *h;
}

void* allocate_large(std::size_t n) noexcept {
  const std::size_t page = page_size();
  if (n > SIZE_MAX - kHeader - page) return nullptr;
  const std::size_t len = (kHeader + n + page - 1) / page * page;
  bool locked = false;
  std::uint8_t* p = map_secret(len, locked);
  if (!p) return nullptr;
  *reinterpret_cast<MapHeader*>(p) = MapHeader{kMagic, kLarge, locked, len};
  return p + kHeader;
}

void* allocate_small(std::size_t cls) noexcept {
  Pool& pl = pool();
  std::lock_guard lock(pl.mu);
  if (void* b = pl.free_list[cls]) {
    std::memcpy(&pl.free_list[cls], b, sizeof(void*));
    std::memset(b, 0, sizeof(void*));
    return b;
  }
  const std::size_t size = kClasses[cls];
  if (pl.carve_end[cls] - pl.carve[cls] < static_cast<std::ptrdiff_t>(size)) {
    bool locked = false;
    std::uint8_t* chunk = map_secret(kChunk, locked);
    if (!chunk) return nullptr;
    *reinterpret_cast<MapHeader*>(chunk) = MapHeader{kMagic, static_cast<std::uint32_t>(cls), locked, kChunk};
    pl.carve[cls] = chunk + kHeader;
    pl.carve_end[cls] = chunk + kHeader + (kChunk - kHeader) / size * size;
  }
  void* b = pl.carve[cls];
  pl.carve[cls] += size;
  return b;
}

}  // namespace

void* allocate(std::size_t n, std::size_t align) noexcept {
  if (align > kMaxAlign || (align & (align - 1)) != 0) return nullptr;
  if (align > 16) n = std::max(n, kMaxAlign);  // classes of 64 bytes and up are 64-aligned
  if (n > kMaxSmall) return allocate_large(n);
  const auto cls = static_cast<std::size_t>(std::lower_bound(kClasses.begin(), kClasses.end(), n) - kClasses.begin());
  return allocate_small(cls);
}

std::size_t block_size(const void* p) noexcept {
  const MapHeader& h = header_of(p);
  return h.size_class == kLarge ? h.mapped - kHeader : kClasses[h.size_class];
}

void deallocate(void* p) noexcept {
  if (!p) return;
  MapHeader& h = header_of(p);
  if (h.size_class == kLarge) {
    secure_wipe(p, h.mapped - kHeader);
    const std::size_t len = h.mapped;
    const bool locked = h.locked;
    secure_wipe(&h, sizeof h);
    unmap_secret(&h, len, locked);
    return;
  }
  secure_wipe(p, kClasses[h.size_class]);
  Pool& pl = pool();
  std::lock_guard lock(pl.mu);
  std::memcpy(p, &pl.free_list[h.size_class], sizeof(void*));
  pl.free_list[h.size_class] = p;
}

void* reallocate(void* p, std::size_t n) noexcept {
  if (!p) return allocate(n);
  const std::size_t have = block_size(p);
  if (n <= have) return p;
  void* q = allocate(n);
  if (!q) return nullptr;
  std::memcpy(q, p, have);
  deallocate(p);
  return q;
}

}  // namespace secmem
