// Loading the TOML config for a keycast-keymgr command: the error, with its
// file, line and column, is printed to stderr.
#pragma once

#include <optional>
#include <string>

#include "config/keymgr_config.h"

namespace keymgr {

// nullopt (having said why) if the file cannot be read or is invalid: the
// command then exits with 2.
std::optional<KeymgrConfig> load_config_or_say(const std::string& file);

}  // namespace keymgr
