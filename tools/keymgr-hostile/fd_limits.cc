// prlimit(2) on RLIMIT_NOFILE.
#include "fd_limits.h"

#include <cerrno>
#include <cstring>

namespace hostile {

rlim_t nofile(pid_t pid) {
  rlimit r{};
  return ::prlimit(pid, RLIMIT_NOFILE, nullptr, &r) == 0 ? r.rlim_cur : 0;
}

bool raise_nofile(pid_t pid, rlim_t want, std::string* why) {
  rlimit r{};
  if (::prlimit(pid, RLIMIT_NOFILE, nullptr, &r) != 0) {
    *why = std::string("cannot read RLIMIT_NOFILE: ") + std::strerror(errno);
    return false;
  }
  if (r.rlim_cur >= want) return true;
  r.rlim_cur = want;
  if (r.rlim_max != RLIM_INFINITY && r.rlim_max < want) r.rlim_max = want;  // root only
  if (::prlimit(pid, RLIMIT_NOFILE, &r, nullptr) != 0) {
    *why = "cannot raise RLIMIT_NOFILE to " + std::to_string(want) + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace hostile
