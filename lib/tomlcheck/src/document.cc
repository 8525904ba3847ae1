// Parsing files and strings into a Document; toml++ parse errors become
// positioned ConfigErrors.
#include "tomlcheck/document.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <utility>

#include "tomlcheck/error.h"

namespace tomlcheck {

Document::Document(std::string name, toml::table table)
    : name_(std::move(name)), table_(std::make_unique<const toml::table>(std::move(table))) {}

Document Document::from_file(const std::filesystem::path& path) {
  std::string name = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(name + ": cannot read: " + std::strerror(errno));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw ConfigError(name + ": cannot read: " + std::strerror(errno));
  return from_string(text, std::move(name));
}

Document Document::from_string(std::string_view text, std::string name) {
  try {
    toml::table t = toml::parse(text, std::string_view(name));
    return Document(std::move(name), std::move(t));
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    throw error_at(Position{name, b.line, b.column}, e.description());
  }
}

Table Document::root() const { return Table(*table_, name_, "", "the top-level table"); }

}  // namespace tomlcheck
