// OpenSSL's heap in secret memory: every OPENSSL_malloc (EVP contexts and
// their key schedules and GHASH tables, TLS record buffers holding decrypted
// KEY_REQUEST answers, private keys) comes from the pool (pool.h), out of
// core dumps and wiped when freed.
//
// Process-wide and possible only before OpenSSL's first allocation, so it is
// for executables, never for a library others link: keycast's binaries link
// secmem_openssl_startup_dep, which does it before main.
#pragma once

namespace secmem {

// False if OpenSSL allocated already (then nothing changed).
bool hold_openssl_heap() noexcept;
// Whether hold_openssl_heap() succeeded in this process.
bool openssl_heap_held() noexcept;

}  // namespace secmem
