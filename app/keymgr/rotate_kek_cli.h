// `keycast-keymgr rotate-kek --config FILE --state-dir DIR`: replaces the KEK
// of a stopped key manager and re-wraps its keys (store/kek_rotation.h).
#pragma once

#include <string>

namespace keymgr {

// Exit code: 0 done, 1 refused or failed (says why), 2 bad config.
int rotate_kek_command(const std::string& config_file, const std::string& state_dir);

}  // namespace keymgr
