// secure_wipe over glibc's explicit_bzero.
#include "secmem/wipe.h"

#include <string.h>

namespace secmem {

void secure_wipe(void* p, std::size_t n) noexcept {
  if (p && n) explicit_bzero(p, n);
}

}  // namespace secmem
