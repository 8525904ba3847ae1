// The rotate-kek command: config, KEK path, the rotation, one summary line.
#include "rotate_kek_cli.h"

#include <iostream>

#include "cli_config.h"
#include "store/kek_rotation.h"

namespace keymgr {

int rotate_kek_command(const std::string& config_file, const std::string& state_dir) {
  const auto config = load_config_or_say(config_file);
  if (!config) return 2;
  const std::string kek = kek_path(config->server, state_dir).string();
  const auto n = store::rotate_kek(state_dir, kek, [](const std::string& line) {
    std::cerr << "keycast-keymgr rotate-kek: " << line << "\n";
  });
  if (!n) {
    std::cerr << "keycast-keymgr rotate-kek: " << n.message() << "\n";
    return 1;
  }
  std::cout << "keycast-keymgr rotate-kek: re-wrapped " << *n << " keys under a new KEK in " << kek << "\n";
  return 0;
}

}  // namespace keymgr
