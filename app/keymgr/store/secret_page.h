// Memory for secrets: its own page-aligned mapping, excluded from core dumps
// (MADV_DONTDUMP), locked in RAM where the system allows it, and wiped before
// it is unmapped.
#pragma once

#include <cstddef>
#include <cstdint>

namespace keymgr::store {

class SecretPage {
 public:
  // Throws std::bad_alloc if the mapping fails.
  explicit SecretPage(std::size_t size);
  ~SecretPage();
  SecretPage(SecretPage&& other) noexcept;
  SecretPage& operator=(SecretPage&& other) noexcept;
  SecretPage(const SecretPage&) = delete;
  SecretPage& operator=(const SecretPage&) = delete;

  std::uint8_t* data() noexcept { return data_; }
  const std::uint8_t* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }

 private:
  void release() noexcept;

  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t mapped_ = 0;
  bool locked_ = false;
};

}  // namespace keymgr::store
