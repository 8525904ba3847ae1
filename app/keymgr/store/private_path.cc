// Permission checks for the state directory.
#include "store/private_path.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace keymgr::store {

std::string format_mode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

Result<void> check_private_dir(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    return fail(StoreError::refused,
                "state directory " + path + ": " + std::strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) {
    return fail(StoreError::refused, "state directory " + path + ": not a directory");
  }
  if ((st.st_mode & 077) != 0) {
    return fail(StoreError::refused,
                "state directory " + path + ": mode " + format_mode(st.st_mode) +
                    " allows access by group or others (chmod 700 it)");
  }
  return {};
}

}  // namespace keymgr::store
