// The key-encryption key (KEK): 32 bytes read from a private file, kept in
// secret memory (secmem). Every key in the store is wrapped under it
// (key_wrap.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "secmem/allocator.h"
#include "store/result.h"

namespace keymgr::store {

class Kek {
 public:
  static constexpr std::size_t kSize = 32;

  // Refused (StoreError::refused, message naming the file) if the file is
  // missing, not a regular file, not exactly 32 bytes, or has mode & 077 != 0.
  // Symbolic links are followed; the checks apply to the file they name.
  static Result<Kek> load(const std::string& path);
  // For tests and tools that hold the bytes already.
  static Kek from_bytes(std::span<const std::uint8_t, kSize> bytes);

  Kek clone() const;
  std::span<const std::uint8_t, kSize> bytes() const noexcept {
    return std::span<const std::uint8_t, kSize>(secret_.data(), kSize);
  }

 private:
  Kek() : secret_(kSize) {}
  secmem::Bytes secret_;
};

// Writes a new KEK of 32 bytes from OpenSSL's DRBG to path with mode 0600,
// fsyncs it and its directory. Fails if path exists (O_EXCL); a partly
// written file is removed.
Result<void> create_kek_file(const std::string& path);

// Where `rotate-kek` writes the next KEK until it replaces kek_file:
// "<kek_file>.new", in the same directory.
std::string pending_kek_path(const std::string& kek_file);

// Renames pending over kek_file and fsyncs their directory.
Result<void> install_kek_file(const std::string& pending, const std::string& kek_file);

}  // namespace keymgr::store
