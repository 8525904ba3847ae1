// Parsing files and strings into a Document; toml++ parse errors become
// positioned ConfigErrors.
#include "tomlcheck/document.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
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

namespace {

// toml++'s words for a parse error, but where it blames the newline of a
// string left open ("unescaped control characters"), the missing quote.
std::string describe(const toml::parse_error& e, std::string_view text) {
  std::string what(e.description());
  if (what.find("unescaped control characters") == std::string::npos) return what;
  const auto& at = e.source().begin;
  std::size_t start = 0;
  for (std::uint32_t line = 1; line < at.line && start != std::string_view::npos; ++line) {
    start = text.find('\n', start);
    if (start != std::string_view::npos) ++start;
  }
  if (start == std::string_view::npos) return what;
  std::size_t end = std::min(text.find('\n', start), text.size());
  if (end > start && text[end - 1] == '\r') --end;
  if (at.column != end - start + 1) return what;
  return "Error while parsing string: it is not closed before the end of the line (a closing quote is missing)";
}

}  // namespace

Document Document::from_string(std::string_view text, std::string name) {
  try {
    toml::table t = toml::parse(text, std::string_view(name));
    return Document(std::move(name), std::move(t));
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    throw error_at(Position{name, b.line, b.column}, describe(e, text));
  }
}

Table Document::root() const { return Table(*table_, name_, "", "the top-level table"); }

}  // namespace tomlcheck
