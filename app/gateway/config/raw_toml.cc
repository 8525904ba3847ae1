// Parsing into a toml++ tree, and arrays of strings taken out of it.
#include "raw_toml.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace gateway::detail {

namespace {

tomlcheck::Position position_of(const toml::node& n, const std::string& file) {
  return tomlcheck::Position{file, n.source().begin.line, n.source().begin.column};
}

[[noreturn]] void wrong_type(const toml::node& n, const std::string& file, const std::string& path,
                             std::string_view expected) {
  throw tomlcheck::error_at(position_of(n, file), path + ": expected " + std::string(expected) + ", got " +
                                                      std::string(tomlcheck::type_name(n.type())));
}

}  // namespace

std::string read_text(const std::filesystem::path& path) {
  const std::string name = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) throw tomlcheck::ConfigError(name + ": cannot read: " + std::strerror(errno));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw tomlcheck::ConfigError(name + ": cannot read: " + std::strerror(errno));
  return text;
}

toml::table parse_toml(std::string_view text, const std::string& name) {
  try {
    return toml::parse(text, std::string_view(name));
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    throw tomlcheck::error_at(tomlcheck::Position{name, b.line, b.column}, e.description());
  }
}

std::optional<StringArray> take_string_array(toml::table& table, std::string_view key, const std::string& file,
                                             const std::string& path) {
  const auto it = table.find(key);
  if (it == table.end()) return std::nullopt;
  const toml::array* a = it->second.as_array();
  if (!a) wrong_type(it->second, file, path, "an array of strings");
  StringArray out{position_of(*a, file), {}};
  for (std::size_t i = 0; i < a->size(); ++i) {
    const toml::node& n = (*a)[i];
    const auto* s = n.as_string();
    if (!s) wrong_type(n, file, path + '[' + std::to_string(i) + ']', "a string");
    out.items.push_back(PlacedString{s->get(), position_of(n, file)});
  }
  table.erase(it);
  return out;
}

}  // namespace gateway::detail
