// Secret memory: one process-wide pool of its own anonymous mappings, each
// excluded from core dumps (MADV_DONTDUMP) and locked in RAM where the system
// allows it (mlock, best effort: RLIMIT_MEMLOCK), each block wiped when it is
// freed. For key material and what is derived from it (expanded patterns, AES
// round keys, GHASH tables, frames carrying key records) and, in keycast's
// executables, OpenSSL's whole heap (openssl_heap.h).
//
// Not for the packet path: allocation and release take a mutex. Small blocks
// come from 256 KiB chunks in size classes and are reused, never unmapped;
// blocks over 32 KiB get a mapping of their own, unmapped when freed.
#pragma once

#include <cstddef>

namespace secmem {

inline constexpr std::size_t kMaxAlign = 64;

// At least n bytes (n == 0 gives the smallest block), aligned to align (a
// power of two up to kMaxAlign). Null if align is larger or mapping fails.
void* allocate(std::size_t n, std::size_t align = 16) noexcept;
// Wipes p's whole block and gives it back. p null: nothing. p must come from
// allocate or reallocate (anything else aborts).
void deallocate(void* p) noexcept;
// As realloc: the contents are kept up to the smaller size and the old block
// is wiped; null (p left as it was) if no memory. p null: allocate(n).
void* reallocate(void* p, std::size_t n) noexcept;
// The usable size of p's block (at least what was asked for).
std::size_t block_size(const void* p) noexcept;

}  // namespace secmem
