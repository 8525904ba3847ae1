// KekWatch: stat of the KEK file, compared with the last look.
#include "kek_watch.h"

#include <cerrno>
#include <cstring>
#include <utility>

namespace keymgr {

KekWatch::KekWatch(std::string path, std::function<void(const std::string&)> log)
    : path_(std::move(path)), log_(std::move(log)), last_(look()) {}

KekWatch::Seen KekWatch::look() const {
  struct stat st {};
  Seen s;
  if (::stat(path_.c_str(), &st) != 0) {
    s.error = errno;
    return s;
  }
  s.dev = st.st_dev;
  s.ino = st.st_ino;
  s.size = st.st_size;
  s.mtime = st.st_mtim;
  return s;
}

bool KekWatch::same(const Seen& a, const Seen& b) {
  return a.error == b.error && a.dev == b.dev && a.ino == b.ino && a.size == b.size &&
         a.mtime.tv_sec == b.mtime.tv_sec && a.mtime.tv_nsec == b.mtime.tv_nsec;
}

void KekWatch::check() {
  const Seen now = look();
  if (same(now, last_)) return;
  last_ = now;
  const std::string still = "keys are still wrapped and served under the KEK loaded at start; ";
  if (now.error != 0) {
    log_("KEK file " + path_ + ": " + std::strerror(now.error) + " (removed while serving); " + still +
         "the next start needs it: restore it from the backup before then");
  } else {
    log_("KEK file " + path_ + " changed while serving; " + still +
         "the next start is refused unless the file holds that KEK");
  }
}

}  // namespace keymgr
