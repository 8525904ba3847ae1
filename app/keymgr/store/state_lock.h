// The state directory's lock: flock(2) on <state_dir>/keymgr.lock, held for a
// process's use of the store. Serving takes it shared, `rotate-kek` exclusive,
// so a rotation never runs beside a server and a server never starts during
// a rotation. The kernel drops it when the process dies (kill -9 included).
#pragma once

#include <string>

#include "store/fd.h"
#include "store/result.h"

namespace keymgr::store {

class StateLock {
 public:
  enum class Mode { shared, exclusive };

  // Never waits: refused (naming the directory and who holds it) if the lock
  // is held in a conflicting mode. The lock file is created 0600.
  static Result<StateLock> acquire(const std::string& state_dir, Mode mode);

  StateLock(StateLock&&) noexcept = default;
  StateLock& operator=(StateLock&&) noexcept = default;

 private:
  explicit StateLock(Fd fd) : fd_(std::move(fd)) {}
  Fd fd_;
};

}  // namespace keymgr::store
