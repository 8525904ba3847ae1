// Positions in a config file and the error every keycast config loader
// throws: "FILE:LINE:COL: what is wrong".
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tomlcheck {

struct Position {
  std::string file;
  std::uint32_t line = 1;
  std::uint32_t column = 1;
};

// "FILE:LINE:COL"
std::string to_string(const Position& pos);

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A ConfigError reading "FILE:LINE:COL: what".
ConfigError error_at(const Position& pos, std::string_view what);

}  // namespace tomlcheck
