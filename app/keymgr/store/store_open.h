// Opening the store as the key manager's commands do: the state-directory
// lock, the KEK file, and the end of a `rotate-kek` that was interrupted.
//
// rotate-kek writes <kek_file>.new, re-wraps the store under it in one
// commit, then renames it over kek_file. So at open, if kek_file does not
// match the store but <kek_file>.new does, the process died after the commit:
// the rename is finished. If kek_file matches and <kek_file>.new exists, it
// died before the commit: <kek_file>.new is stale and removed. Either is said
// in one line through `log`; anything else is an error, and no file is
// touched.
#pragma once

#include <functional>
#include <string>

#include "store/key_store.h"
#include "store/result.h"
#include "store/state_lock.h"

namespace keymgr::store {

// The store with the lock that keeps other commands off it (the lock is
// released after the store is closed).
struct LockedStore {
  StateLock lock;
  KeyStore store;
};

using OpenLog = std::function<void(const std::string&)>;

// Refused (with the reason) if the state directory is not private, the lock
// is held in a conflicting mode, the KEK file cannot be read, or neither it
// nor <kek_file>.new matches the store.
Result<LockedStore> open_store(const std::string& state_dir, const std::string& kek_file,
                               StateLock::Mode mode, const OpenLog& log);

}  // namespace keymgr::store
