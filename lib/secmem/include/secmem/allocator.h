// Containers and objects in secret memory (pool.h): Allocator<T> for standard
// containers, Bytes for byte buffers that may hold key material (every buffer
// a growing vector leaves behind is wiped too), and InSecretMemory, a base
// whose `new` and `delete` use the pool (for objects made with new or
// std::make_unique).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>
#include <vector>

#include "secmem/pool.h"

namespace secmem {

template <class T>
struct Allocator {
  static_assert(alignof(T) <= kMaxAlign, "secret memory is at most 64-byte aligned");
  using value_type = T;

  Allocator() noexcept = default;
  template <class U>
  Allocator(const Allocator<U>&) noexcept {}

  T* allocate(std::size_t n) {
    if (n > std::numeric_limits<std::size_t>::max() / sizeof(T)) throw std::bad_array_new_length();
    void* p = secmem::allocate(n * sizeof(T), alignof(T));
    if (!p) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t) noexcept { secmem::deallocate(p); }

  template <class U>
  friend bool operator==(const Allocator&, const Allocator<U>&) noexcept {
    return true;
  }
};

using Bytes = std::vector<std::uint8_t, Allocator<std::uint8_t>>;

// Derive from it to have `new T` (and std::make_unique<T>) place T in the
// pool, wiped on delete after T's destructor ran.
struct InSecretMemory {
  static void* operator new(std::size_t n) { return checked(secmem::allocate(n)); }
  static void* operator new(std::size_t n, std::align_val_t a) {
    return checked(secmem::allocate(n, static_cast<std::size_t>(a)));
  }
  static void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return secmem::allocate(n); }
  static void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
    return secmem::allocate(n, static_cast<std::size_t>(a));
  }
  static void* operator new(std::size_t, void* at) noexcept { return at; }
  static void operator delete(void* p) noexcept { secmem::deallocate(p); }
  static void operator delete(void* p, std::align_val_t) noexcept { secmem::deallocate(p); }
  static void operator delete(void* p, const std::nothrow_t&) noexcept { secmem::deallocate(p); }
  static void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { secmem::deallocate(p); }
  static void operator delete(void*, void*) noexcept {}

 private:
  static void* checked(void* p) {
    if (!p) throw std::bad_alloc();
    return p;
  }
};

}  // namespace secmem
