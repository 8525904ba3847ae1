// OpenSSL's allocator hooks onto the secret-memory pool.
#include "secmem/openssl_heap.h"

#include <openssl/crypto.h>

#include <atomic>

#include "secmem/pool.h"

namespace secmem {

namespace {

std::atomic<bool> g_held{false};

// OpenSSL's own allocator answers 0 bytes with null, and realloc to 0 frees.
void* ossl_malloc(std::size_t n, const char*, int) { return n ? allocate(n) : nullptr; }

void* ossl_realloc(void* p, std::size_t n, const char*, int) {
  if (n == 0) {
    deallocate(p);
    return nullptr;
  }
  return reallocate(p, n);
}

void ossl_free(void* p, const char*, int) { deallocate(p); }

}  // namespace

bool hold_openssl_heap() noexcept {
  if (g_held.load()) return true;
  const bool ok = CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free) == 1;
  if (ok) g_held.store(true);
  return ok;
}

bool openssl_heap_held() noexcept { return g_held.load(); }

}  // namespace secmem
