// StateLock: a non-blocking flock on <state_dir>/keymgr.lock.
#include "store/state_lock.h"

#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>
#include <cstring>

namespace keymgr::store {

Result<StateLock> StateLock::acquire(const std::string& state_dir, Mode mode) {
  const std::string path = state_dir + "/keymgr.lock";
  Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() < 0) return fail(StoreError::refused, "lock file " + path + ": " + std::strerror(errno));
  const int op = (mode == Mode::exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB;
  int rc;
  do {
    rc = ::flock(fd.get(), op);
  } while (rc != 0 && errno == EINTR);
  if (rc == 0) return StateLock(std::move(fd));
  if (errno != EWOULDBLOCK) return fail(StoreError::refused, "lock file " + path + ": " + std::strerror(errno));
  return fail(StoreError::refused,
              mode == Mode::exclusive
                  ? "state directory " + state_dir +
                        " is in use by a running keycast-keymgr (" + path + " is locked): stop it first"
                  : "state directory " + state_dir + " is locked by a running keycast-keymgr rotate-kek (" +
                        path + "): wait for it to finish");
}

}  // namespace keymgr::store
