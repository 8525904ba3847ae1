// secure_wipe: overwrite memory that held a secret, in a way the compiler may
// not drop as a dead store (explicit_bzero).
#pragma once

#include <cstddef>

namespace secmem {

void secure_wipe(void* p, std::size_t n) noexcept;

}  // namespace secmem
