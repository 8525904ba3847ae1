// A parsed TOML file: owns the toml++ tree and the name used in messages.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include <toml++/toml.h>

#include "tomlcheck/table.h"

namespace tomlcheck {

class Document {
 public:
  // Reads and parses a file; messages name it as `path` was written.
  // Throws ConfigError ("FILE: cannot read: ..." or "FILE:LINE:COL: ...").
  static Document from_file(const std::filesystem::path& path);
  // Parses text; messages name it `name`.
  static Document from_string(std::string_view text, std::string name);

  const std::string& name() const noexcept { return name_; }
  // The top-level table. Tables borrow from the document: keep it alive.
  Table root() const;

 private:
  Document(std::string name, toml::table table);

  std::string name_;
  std::unique_ptr<const toml::table> table_;  // stable address across moves
};

}  // namespace tomlcheck
