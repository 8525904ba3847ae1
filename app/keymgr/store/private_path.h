// Checks that files holding secrets are private to the owner: the state
// directory and the KEK file must not be accessible by group or others.
#pragma once

#include <sys/types.h>

#include <string>

#include "store/result.h"

namespace keymgr::store {

// "0755": the permission bits of a mode, in octal.
std::string format_mode(mode_t mode);

// Refused (StoreError::refused) unless path is an existing directory with
// mode & 077 == 0. The message names the path and its mode.
Result<void> check_private_dir(const std::string& path);

}  // namespace keymgr::store
