// Loading, creating and installing KEK files.
#include "store/kek.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "store/fd.h"
#include "store/private_path.h"

namespace keymgr::store {
namespace {

Failure kek_error(const std::string& path, const std::string& what) {
  return fail(StoreError::refused, "KEK file " + path + ": " + what);
}

// Makes a new or renamed entry of the directory holding path durable.
Result<void> sync_parent_dir(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::string dir = parent.empty() ? std::string(".") : parent.string();
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || fsync(fd.get()) != 0) {
    return fail(StoreError::unavailable, "directory " + dir + ": cannot sync: " + std::strerror(errno));
  }
  return {};
}

}  // namespace

Result<Kek> Kek::load(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) return kek_error(path, std::strerror(errno));
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) return kek_error(path, std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return kek_error(path, "not a regular file");
  if ((st.st_mode & 077) != 0) {
    return kek_error(path, "mode " + format_mode(st.st_mode) +
                               " allows access by group or others (chmod 600 or 400 it)");
  }
  if (st.st_size != static_cast<off_t>(kSize)) {
    return kek_error(path, "size is " + std::to_string(st.st_size) + " bytes, must be exactly " +
                               std::to_string(kSize));
  }
  Kek kek;
  std::size_t got = 0;
  while (got < kSize) {
    ssize_t n = ::read(fd.get(), kek.secret_.data() + got, kSize - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return kek_error(path, std::strerror(errno));
    if (n == 0) return kek_error(path, "shorter than 32 bytes when read");
    got += static_cast<std::size_t>(n);
  }
  std::uint8_t extra = 0;
  if (::read(fd.get(), &extra, 1) != 0) return kek_error(path, "longer than 32 bytes when read");
  return kek;
}

Kek Kek::from_bytes(std::span<const std::uint8_t, kSize> bytes) {
  Kek kek;
  std::copy(bytes.begin(), bytes.end(), kek.secret_.data());
  return kek;
}

Kek Kek::clone() const { return from_bytes(bytes()); }

Result<void> create_kek_file(const std::string& path) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() < 0) return kek_error(path, std::string("cannot create: ") + std::strerror(errno));
  auto undo = [&](const std::string& what) {
    ::close(fd.release());
    ::unlink(path.c_str());
    return kek_error(path, what);
  };
  if (fchmod(fd.get(), 0600) != 0) return undo(std::strerror(errno));
  secmem::Bytes key(Kek::kSize);
  if (RAND_bytes(key.data(), static_cast<int>(Kek::kSize)) != 1) {
    return undo("RAND_bytes failed");
  }
  std::size_t put = 0;
  while (put < Kek::kSize) {
    ssize_t n = ::write(fd.get(), key.data() + put, Kek::kSize - put);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return undo(std::strerror(errno));
    put += static_cast<std::size_t>(n);
  }
  if (fsync(fd.get()) != 0) return undo(std::strerror(errno));
  if (::close(fd.release()) != 0) {
    ::unlink(path.c_str());
    return kek_error(path, std::strerror(errno));
  }
  return sync_parent_dir(path);
}

std::string pending_kek_path(const std::string& kek_file) { return kek_file + ".new"; }

Result<void> install_kek_file(const std::string& pending, const std::string& kek_file) {
  if (::rename(pending.c_str(), kek_file.c_str()) != 0) {
    return kek_error(kek_file, "cannot rename " + pending + " over it: " + std::strerror(errno));
  }
  return sync_parent_dir(kek_file);
}

}  // namespace keymgr::store
