// StateFile: lock, checked read, and durable replacement.
#include "state_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace gateway {

namespace {

std::string errno_text() { return std::strerror(errno); }

std::string octal_mode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// The directory entry of a created or renamed file is durable only once its
// directory is synced.
bool sync_dir(const std::filesystem::path& file, std::string* why) {
  const std::filesystem::path parent = file.parent_path();
  const std::string dir = parent.empty() ? std::string(".") : parent.string();
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const bool ok = fd >= 0 && ::fsync(fd) == 0;
  if (!ok) *why = "cannot sync directory " + dir + ": " + errno_text();
  if (fd >= 0) ::close(fd);
  return ok;
}

bool write_all(int fd, const std::string& text) {
  std::size_t put = 0;
  while (put < text.size()) {
    const ssize_t n = ::write(fd, text.data() + put, text.size() - put);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    put += static_cast<std::size_t>(n);
  }
  return true;
}

// Up to max bytes of fd; n is what was read, or -1 on an error (errno set).
std::string read_up_to(int fd, std::size_t max, ssize_t& n) {
  std::string text;
  char chunk[4096];
  while (text.size() < max) {
    const ssize_t r = ::read(fd, chunk, std::min(sizeof chunk, max - text.size()));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      n = -1;
      return {};
    }
    if (r == 0) break;
    text.append(chunk, static_cast<std::size_t>(r));
  }
  n = static_cast<ssize_t>(text.size());
  return text;
}

}  // namespace

StateFile::StateFile(std::filesystem::path path, std::string label, std::size_t max_bytes)
    : path_(std::move(path)), label_(std::move(label)) {
  const std::string name = label_ + ' ' + path_.string();
  const std::string lock = path_.string() + ".lock";
  lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (lock_fd_ < 0)
    throw std::runtime_error(name + ": cannot open its lock file " + lock + ": " + errno_text() +
                             (errno == ENOENT ? " (does the directory exist?)" : ""));
  int rc;
  do rc = ::flock(lock_fd_, LOCK_EX | LOCK_NB);
  while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const bool held = errno == EWOULDBLOCK;
    const std::string what = held ? "is in use by another running keycast-gateway (" + lock +
                                        " is locked): two gateways must never share one " + label_
                                  : "cannot lock " + lock + ": " + errno_text();
    ::close(lock_fd_);
    throw std::runtime_error(name + ' ' + what);
  }

  auto refuse = [&](const std::string& what) {
    ::close(lock_fd_);
    lock_fd_ = -1;
    return error(what);
  };
  const int fd = ::open(path_.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) return;  // first start
    throw refuse("cannot open: " + errno_text());
  }
  struct stat st {};
  std::string text;
  ssize_t n = -1;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) text = read_up_to(fd, max_bytes + 1, n);
  const int read_errno = errno;
  ::close(fd);
  if (!S_ISREG(st.st_mode)) throw refuse("not a regular file");
  if (st.st_uid != ::geteuid())
    throw refuse("owned by uid " + std::to_string(st.st_uid) + ", not by this process's uid " +
                 std::to_string(::geteuid()));
  if ((st.st_mode & 077) != 0)
    throw refuse("mode " + octal_mode(st.st_mode) + " allows access by group or others (chmod 600 it)");
  if (n < 0) throw refuse("cannot read: " + std::string(std::strerror(read_errno)));
  if (text.size() > max_bytes) throw refuse("longer than " + std::to_string(max_bytes) + " bytes");
  text_ = std::move(text);
}

StateFile::~StateFile() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

std::runtime_error StateFile::error(const std::string& what) const {
  return std::runtime_error(label_ + ' ' + path_.string() + ": " + what);
}

bool StateFile::replace(const std::string& text, std::string* why) {
  const std::string tmp = path_.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    *why = "cannot create " + tmp + ": " + errno_text();
    return false;
  }
  const bool written = ::fchmod(fd, 0600) == 0 && write_all(fd, text) && ::fsync(fd) == 0;
  const std::string write_error = errno_text();
  if (::close(fd) != 0 || !written) {
    *why = "cannot write " + tmp + ": " + (written ? errno_text() : write_error);
    ::unlink(tmp.c_str());
    return false;
  }
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    *why = "cannot rename " + tmp + " over it: " + errno_text();
    ::unlink(tmp.c_str());
    return false;
  }
  if (!sync_dir(path_, why)) return false;
  text_ = text;
  return true;
}

}  // namespace gateway
