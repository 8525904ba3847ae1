// `keycast-keymgr --config FILE --state-dir DIR`: opens the store, serves the
// protocol until SIGINT/SIGTERM, prints its counters at exit.
#pragma once

#include <string>

namespace keymgr {

// Returns the process exit code; prints why it could not start.
int serve(const std::string& config_file, const std::string& state_dir);

// `keycast-keymgr init`: creates the state directory (0700) and the KEK file
// named in the config (0600, 32 random bytes) where they are missing.
int init_state(const std::string& config_file, const std::string& state_dir);

}  // namespace keymgr
