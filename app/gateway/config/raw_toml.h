// What lib/tomlcheck does not offer: the parsed toml++ tree itself, and
// arrays of strings read from it. tomlcheck::Document keeps its tree
// private, so the loader parses here (same messages as Document) and wraps
// the tree in tomlcheck::Table for everything else.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "tomlcheck/error.h"
#include "tomlcheck/table.h"

namespace gateway::detail {

// The file's bytes; throws ConfigError "FILE: cannot read: why".
std::string read_text(const std::filesystem::path& path);
// Throws ConfigError "NAME:LINE:COL: toml++'s message".
toml::table parse_toml(std::string_view text, const std::string& name);

struct PlacedString {
  std::string text;
  tomlcheck::Position where;
};

struct StringArray {
  tomlcheck::Position where;  // of the array
  std::vector<PlacedString> items;
};

// Reads `table`'s `key` as an array of strings and removes it from `table`,
// so that a tomlcheck::Table over it does not call it unknown. nullopt when
// absent. `path` is the key's name in messages ("keys.endpoints").
std::optional<StringArray> take_string_array(toml::table& table, std::string_view key, const std::string& file,
                                             const std::string& path);

}  // namespace gateway::detail
