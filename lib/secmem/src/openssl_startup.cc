// Linked whole into keycast's executables: puts OpenSSL's heap in secret
// memory (openssl_heap.h) before main and before other static initializers,
// so before OpenSSL's first allocation.
#include <cstdio>

#include "secmem/openssl_heap.h"

namespace {

__attribute__((constructor(101))) void hold_openssl_heap_at_start() {
  if (!secmem::hold_openssl_heap())
    std::fputs("warning: OpenSSL allocated before keycast could give it secret memory: its key schedules "
               "are not kept out of core dumps\n",
               stderr);
}

}  // namespace
