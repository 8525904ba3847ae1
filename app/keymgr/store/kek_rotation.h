// `keycast-keymgr rotate-kek`: replaces the KEK of a stopped key manager and
// re-wraps every stored key under the new one, crash-safe at every step:
//   1. open the store under the exclusive state lock (store_open.h: this also
//      settles an earlier interrupted rotation);
//   2. write a random KEK to <kek_file>.new (0600, fsynced with its directory);
//   3. re-wrap all keys and meta.kek_check under it in one transaction;
//   4. rename <kek_file>.new over kek_file, fsync the directory.
// A crash before 3 commits leaves the old KEK in force and a stale .new; a
// crash after it leaves the store under .new. The next open_store settles
// either. The old KEK and every unwrapped key are wiped from memory after use.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "store/result.h"
#include "store/store_open.h"

namespace keymgr::store {

// The points a test may stop a rotation at (to simulate a crash there).
enum class RotateStage { new_kek_written, committed };

// Returns how many keys were re-wrapped. kek_file must be a regular file,
// not a symbolic link (the link would be replaced by a file).
Result<std::size_t> rotate_kek(const std::string& state_dir, const std::string& kek_file, const OpenLog& log,
                               const std::function<void(RotateStage)>& test_hook = {});

}  // namespace keymgr::store
