// SeqFile: lock, read, and durable replacement of the seq mark file.
#include "seq_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace gateway {

namespace {

constexpr std::size_t kMaxFileBytes = 32;  // 20 digits and a newline, with room to see "too long"

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

// "N\n", N decimal without sign or leading zeros (but "0"), at most 2^64-1.
std::optional<std::uint64_t> parse_mark(const std::string& text) {
  std::string_view digits = text;
  if (!digits.empty() && digits.back() == '\n') digits.remove_suffix(1);
  if (digits.empty() || (digits.size() > 1 && digits.front() == '0')) return std::nullopt;
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return v;
}

}  // namespace

SeqFile::SeqFile(std::filesystem::path path) : path_(std::move(path)) {
  const std::string name = "seq_file " + path_.string();
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
                                        " is locked): two gateways must never share one seq_file"
                                  : "cannot lock " + lock + ": " + errno_text();
    ::close(lock_fd_);
    throw std::runtime_error(name + ' ' + what);
  }

  auto refuse = [&](const std::string& what) {
    ::close(lock_fd_);
    lock_fd_ = -1;
    return std::runtime_error(name + ": " + what);
  };
  const int fd = ::open(path_.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) return;  // first start
    throw refuse("cannot open: " + errno_text());
  }
  struct stat st {};
  std::string text(kMaxFileBytes, '\0');
  ssize_t n = -1;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
    do n = ::read(fd, text.data(), text.size());
    while (n < 0 && errno == EINTR);
  }
  const int read_errno = errno;
  ::close(fd);
  if (!S_ISREG(st.st_mode)) throw refuse("not a regular file");
  if (st.st_uid != ::geteuid())
    throw refuse("owned by uid " + std::to_string(st.st_uid) + ", not by this process's uid " +
                 std::to_string(::geteuid()));
  if ((st.st_mode & 077) != 0)
    throw refuse("mode " + octal_mode(st.st_mode) + " allows access by group or others (chmod 600 it)");
  if (n < 0) throw refuse("cannot read: " + std::string(std::strerror(read_errno)));
  text.resize(static_cast<std::size_t>(n));
  stored_ = parse_mark(text);
  if (!stored_)
    throw refuse(
        "does not hold a seq mark (one decimal number): the seq this gateway used last cannot be proven, so it "
        "does not start. Restore the file, or remove it once every channel has moved to a key this gateway never "
        "used (seq then starts at the clock)");
}

SeqFile::~SeqFile() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

bool SeqFile::store(std::uint64_t mark, std::string* why) {
  const std::string tmp = path_.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    *why = "cannot create " + tmp + ": " + errno_text();
    return false;
  }
  const bool written = ::fchmod(fd, 0600) == 0 && write_all(fd, std::to_string(mark) + "\n") && ::fsync(fd) == 0;
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
  // Renamed but perhaps not durable: the caller must not count on the mark.
  if (!sync_dir(path_, why)) return false;
  stored_ = mark;
  return true;
}

}  // namespace gateway
