// Formatting of positions and positioned errors.
#include "tomlcheck/error.h"

namespace tomlcheck {

std::string to_string(const Position& pos) {
  return pos.file + ':' + std::to_string(pos.line) + ':' + std::to_string(pos.column);
}

ConfigError error_at(const Position& pos, std::string_view what) {
  std::string msg = to_string(pos);
  msg += ": ";
  msg += what;
  return ConfigError(msg);
}

}  // namespace tomlcheck
