// secure_wipe and wipe_stack_below over glibc's explicit_bzero.
#include "secmem/wipe.h"

#include <alloca.h>
#include <string.h>

namespace secmem {

void secure_wipe(void* p, std::size_t n) noexcept {
  if (p && n) explicit_bzero(p, n);
}

// noinline: its frame, and the alloca in it, lie below its caller's.
__attribute__((noinline)) void wipe_stack_below(std::size_t bytes) noexcept {
  if (bytes == 0) return;
  void* below = alloca(bytes);
  explicit_bzero(below, bytes);
  __asm__ volatile("" : : "r"(below) : "memory");  // the frame stays until the wipe is done
}

}  // namespace secmem
