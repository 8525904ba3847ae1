// Test helpers: a private temporary directory, a fixed KEK, and keys whose
// material is derived from their ids (so a test can check it byte for byte).
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "store/kek.h"
#include "store/key_store.h"

namespace keymgr::store::test {

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/keymgr-store-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
    chmod(path_.c_str(), 0700);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline Kek test_kek(std::uint8_t seed = 1) {
  std::array<std::uint8_t, Kek::kSize> b{};
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<std::uint8_t>(seed * 31 + i);
  return Kek::from_bytes(b);
}

inline KeyMaterial material_for(std::uint32_t channel_id, std::uint32_t key_id, std::uint16_t len,
                                std::uint8_t salt = 0) {
  KeyMaterial m;
  std::uint32_t x = channel_id * 2654435761u ^ key_id * 40503u ^ salt;
  for (std::uint16_t i = 0; i < len; ++i) {
    x = x * 1103515245u + 12345u;
    m.bytes[i] = static_cast<std::uint8_t>(x >> 16);
  }
  m.len = len;
  return m;
}

inline StoredKey make_key(std::uint32_t channel_id, std::uint32_t key_id, std::uint16_t len = 16,
                          std::uint8_t salt = 0) {
  StoredKey k;
  k.channel_id = channel_id;
  k.key_id = key_id;
  k.suite = 1;
  k.key_length = len;
  k.lifetime_ms = 10'000;
  k.not_before_ms = 1'700'000'000'000ull + key_id * 10'000ull;
  k.created_ms = 1'700'000'000'000ull;
  k.material = material_for(channel_id, key_id, len, salt);
  return k;
}

// The store in dir under test_kek(), for a fixture's SetUp (a failure throws,
// which fails the test).
inline KeyStore open_store(const TempDir& dir) {
  auto s = KeyStore::open(dir.path(), test_kek());
  if (!s.ok()) throw std::runtime_error("KeyStore::open: " + s.message());
  return std::move(*s);
}

}  // namespace keymgr::store::test
