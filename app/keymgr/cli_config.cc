// load_config_or_say: load_keymgr_config with its error printed.
#include "cli_config.h"

#include <iostream>

namespace keymgr {

std::optional<KeymgrConfig> load_config_or_say(const std::string& file) {
  try {
    return load_keymgr_config(file);
  } catch (const tomlcheck::ConfigError& e) {
    std::cerr << "keycast-keymgr: " << e.what() << "\n";
    return std::nullopt;
  }
}

}  // namespace keymgr
