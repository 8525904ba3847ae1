// SecretPage: an anonymous mapping kept out of dumps and swap, wiped on release.
#include "store/secret_page.h"

#include <openssl/crypto.h>
#include <sys/mman.h>
#include <unistd.h>

#include <new>
#include <utility>

namespace keymgr::store {

SecretPage::SecretPage(std::size_t size) : size_(size) {
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  mapped_ = (size == 0 ? 1 : (size + page - 1) / page) * page;
  void* p = mmap(nullptr, mapped_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  data_ = static_cast<std::uint8_t*>(p);
  // Both are best effort: containers often forbid mlock (RLIMIT_MEMLOCK).
  (void)madvise(p, mapped_, MADV_DONTDUMP);
  locked_ = mlock(p, mapped_) == 0;
}

SecretPage::~SecretPage() { release(); }

SecretPage::SecretPage(SecretPage&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      mapped_(std::exchange(other.mapped_, 0)),
      locked_(std::exchange(other.locked_, false)) {}

SecretPage& SecretPage::operator=(SecretPage&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    mapped_ = std::exchange(other.mapped_, 0);
    locked_ = std::exchange(other.locked_, false);
  }
  return *this;
}

void SecretPage::release() noexcept {
  if (data_ == nullptr) return;
  OPENSSL_cleanse(data_, mapped_);
  if (locked_) (void)munlock(data_, mapped_);
  (void)munmap(data_, mapped_);
  data_ = nullptr;
}

}  // namespace keymgr::store
