// A TOML table read through typed getters. Each getter marks its key as
// consumed; check_unknown_keys() then reports any key nobody asked for.
// Every failure throws ConfigError "FILE:LINE:COL: what", at the offending
// value (or at the table when a key is missing).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "tomlcheck/error.h"

namespace tomlcheck {

inline constexpr std::int64_t kIntMin = std::numeric_limits<std::int64_t>::min();
inline constexpr std::int64_t kIntMax = std::numeric_limits<std::int64_t>::max();

class Table {
 public:
  // `path` prefixes keys in messages ("server" gives "server.listen"; empty
  // for the root); `display` names the table in "unknown key ... in DISPLAY".
  Table(const toml::table& table, std::string file, std::string path, std::string display);

  bool required_bool(std::string_view key);
  std::optional<bool> optional_bool(std::string_view key);

  // Integers in [min, max].
  std::int64_t required_int(std::string_view key, std::int64_t min = kIntMin, std::int64_t max = kIntMax);
  std::optional<std::int64_t> optional_int(std::string_view key, std::int64_t min = kIntMin,
                                           std::int64_t max = kIntMax);

  // Floats; integers are accepted and converted.
  double required_float(std::string_view key);
  std::optional<double> optional_float(std::string_view key);

  std::string required_string(std::string_view key);
  std::optional<std::string> optional_string(std::string_view key);

  // Arrays whose every element is an integer in [min, max].
  std::vector<std::int64_t> required_int_array(std::string_view key, std::int64_t min = kIntMin,
                                               std::int64_t max = kIntMax);
  std::optional<std::vector<std::int64_t>> optional_int_array(std::string_view key, std::int64_t min = kIntMin,
                                                              std::int64_t max = kIntMax);

  // Arrays of strings, each with where it stands (for messages about one element).
  struct PlacedString {
    std::string text;
    Position where;
  };
  std::optional<std::vector<PlacedString>> optional_string_array(std::string_view key);

  // Sub-tables ("[path.key]", or inline).
  Table required_table(std::string_view key);
  std::optional<Table> optional_table(std::string_view key);

  // Arrays of tables ("[[key]]"); each element's path is "path.key".
  std::vector<Table> required_table_array(std::string_view key);  // at least one element
  std::vector<Table> optional_table_array(std::string_view key);  // empty when absent

  bool contains(std::string_view key) const;

  // Positions: of the table itself; of a key's value (the table's when the
  // key is absent); of element `index` of an array value.
  Position where() const;
  Position where(std::string_view key) const;
  Position where(std::string_view key, std::size_t index) const;

  // "path.key" (just "key" at the root).
  std::string path(std::string_view key) const;
  const std::string& path() const noexcept { return path_; }
  const std::string& display() const noexcept { return display_; }

  // Semantic errors: "path.key: what" at the key's value.
  [[noreturn]] void fail(std::string_view key, std::string_view what) const;
  // "path.key[index]: what" at an array element.
  [[noreturn]] void fail(std::string_view key, std::size_t index, std::string_view what) const;
  // "missing key 'key' in DISPLAY" plus " (why)" when given, at the table.
  [[noreturn]] void fail_missing(std::string_view key, std::string_view why = {}) const;

  // Throws for the first key (in file order) no getter asked for.
  void check_unknown_keys() const;

 private:
  const toml::node* find(std::string_view key);  // marks the key consumed
  const toml::node& need(std::string_view key);  // find() or fail_missing()
  Position position_of(const toml::source_region& r) const;
  [[noreturn]] void wrong_type(const std::string& path, const toml::node& n, std::string_view expected) const;
  std::int64_t int_in_range(const std::string& path, const toml::node& n, std::int64_t min,
                            std::int64_t max) const;
  std::vector<std::int64_t> int_array(std::string_view key, const toml::node& n, std::int64_t min,
                                      std::int64_t max) const;
  std::vector<Table> table_array(std::string_view key, const toml::node& n) const;

  const toml::table* table_;
  std::string file_;
  std::string path_;
  std::string display_;
  std::set<std::string, std::less<>> consumed_;
};

// "a string", "an integer", ... for messages.
std::string_view type_name(toml::node_type t) noexcept;

}  // namespace tomlcheck
