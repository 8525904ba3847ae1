// Typed getters over a toml++ table, with consumed-key tracking.
#include "tomlcheck/table.h"

#include <tuple>
#include <utility>

namespace tomlcheck {

namespace {

std::string range_text(std::int64_t min, std::int64_t max) {
  if (max == kIntMax) return "must be >= " + std::to_string(min);
  if (min == kIntMin) return "must be <= " + std::to_string(max);
  return "must be between " + std::to_string(min) + " and " + std::to_string(max);
}

}  // namespace

std::string_view type_name(toml::node_type t) noexcept {
  switch (t) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    case toml::node_type::none: break;
  }
  return "nothing";
}

Table::Table(const toml::table& table, std::string file, std::string path, std::string display)
    : table_(&table), file_(std::move(file)), path_(std::move(path)), display_(std::move(display)) {}

std::string Table::path(std::string_view key) const {
  std::string p = path_;
  if (!p.empty()) p += '.';
  p += key;
  return p;
}

Position Table::position_of(const toml::source_region& r) const {
  return Position{file_, r.begin.line, r.begin.column};
}

Position Table::where() const { return position_of(table_->source()); }

Position Table::where(std::string_view key) const {
  const toml::node* n = table_->get(key);
  return n ? position_of(n->source()) : where();
}

Position Table::where(std::string_view key, std::size_t index) const {
  const toml::node* n = table_->get(key);
  if (const toml::array* a = n ? n->as_array() : nullptr; a && index < a->size())
    return position_of((*a)[index].source());
  return where(key);
}

bool Table::contains(std::string_view key) const { return table_->contains(key); }

void Table::fail(std::string_view key, std::string_view what) const {
  throw error_at(where(key), path(key) + ": " + std::string(what));
}

void Table::fail(std::string_view key, std::size_t index, std::string_view what) const {
  throw error_at(where(key, index), path(key) + '[' + std::to_string(index) + "]: " + std::string(what));
}

void Table::fail_missing(std::string_view key, std::string_view why) const {
  std::string msg = "missing key '" + std::string(key) + "' in " + display_;
  if (!why.empty()) msg += " (" + std::string(why) + ')';
  throw error_at(where(), msg);
}

void Table::wrong_type(const std::string& p, const toml::node& n, std::string_view expected) const {
  throw error_at(position_of(n.source()),
                 p + ": expected " + std::string(expected) + ", got " + std::string(type_name(n.type())));
}

const toml::node* Table::find(std::string_view key) {
  const toml::node* n = table_->get(key);
  if (n) consumed_.emplace(key);
  return n;
}

const toml::node& Table::need(std::string_view key) {
  const toml::node* n = find(key);
  if (!n) fail_missing(key);
  return *n;
}

// --- booleans, floats, strings

std::optional<bool> Table::optional_bool(std::string_view key) {
  const toml::node* n = find(key);
  if (!n) return std::nullopt;
  if (const auto* v = n->as_boolean()) return v->get();
  wrong_type(path(key), *n, "a boolean");
}

bool Table::required_bool(std::string_view key) {
  need(key);
  return *optional_bool(key);
}

std::optional<double> Table::optional_float(std::string_view key) {
  const toml::node* n = find(key);
  if (!n) return std::nullopt;
  if (const auto* v = n->as_floating_point()) return v->get();
  if (const auto* v = n->as_integer()) return static_cast<double>(v->get());
  wrong_type(path(key), *n, "a number");
}

double Table::required_float(std::string_view key) {
  need(key);
  return *optional_float(key);
}

std::optional<std::string> Table::optional_string(std::string_view key) {
  const toml::node* n = find(key);
  if (!n) return std::nullopt;
  if (const auto* v = n->as_string()) return v->get();
  wrong_type(path(key), *n, "a string");
}

std::string Table::required_string(std::string_view key) {
  need(key);
  return *optional_string(key);
}

// --- integers

std::int64_t Table::int_in_range(const std::string& p, const toml::node& n, std::int64_t min,
                                 std::int64_t max) const {
  const auto* v = n.as_integer();
  if (!v) wrong_type(p, n, "an integer");
  const std::int64_t x = v->get();
  if (x < min || x > max)
    throw error_at(position_of(n.source()), p + ": " + range_text(min, max) + ", got " + std::to_string(x));
  return x;
}

std::optional<std::int64_t> Table::optional_int(std::string_view key, std::int64_t min, std::int64_t max) {
  const toml::node* n = find(key);
  if (!n) return std::nullopt;
  return int_in_range(path(key), *n, min, max);
}

std::int64_t Table::required_int(std::string_view key, std::int64_t min, std::int64_t max) {
  return int_in_range(path(key), need(key), min, max);
}

std::vector<std::int64_t> Table::int_array(std::string_view key, const toml::node& n, std::int64_t min,
                                           std::int64_t max) const {
  const toml::array* a = n.as_array();
  if (!a) wrong_type(path(key), n, "an array of integers");
  std::vector<std::int64_t> out;
  out.reserve(a->size());
  for (std::size_t i = 0; i < a->size(); ++i)
    out.push_back(int_in_range(path(key) + '[' + std::to_string(i) + ']', (*a)[i], min, max));
  return out;
}

std::optional<std::vector<std::int64_t>> Table::optional_int_array(std::string_view key, std::int64_t min,
                                                                   std::int64_t max) {
  const toml::node* n = find(key);
  if (!n) return std::nullopt;
  return int_array(key, *n, min, max);
}

std::vector<std::int64_t> Table::required_int_array(std::string_view key, std::int64_t min, std::int64_t max) {
  return int_array(key, need(key), min, max);
}

std::optional<std::vector<Table::PlacedString>> Table::optional_string_array(std::string_view key) {
  const toml::node* n = find(key);
  if (!n) return std::nullopt;
  const toml::array* a = n->as_array();
  if (!a) wrong_type(path(key), *n, "an array of strings");
  std::vector<PlacedString> out;
  out.reserve(a->size());
  for (std::size_t i = 0; i < a->size(); ++i) {
    const toml::node& e = (*a)[i];
    const auto* str = e.as_string();
    if (!str) wrong_type(path(key) + '[' + std::to_string(i) + ']', e, "a string");
    out.push_back(PlacedString{str->get(), Position{file_, e.source().begin.line, e.source().begin.column}});
  }
  return out;
}

// --- tables

std::optional<Table> Table::optional_table(std::string_view key) {
  const toml::node* n = find(key);
  if (!n) return std::nullopt;
  const toml::table* t = n->as_table();
  if (!t) wrong_type(path(key), *n, "a table");
  return Table(*t, file_, path(key), '[' + path(key) + ']');
}

Table Table::required_table(std::string_view key) {
  if (!contains(key)) throw error_at(where(), "missing table [" + path(key) + ']');
  return *optional_table(key);
}

std::vector<Table> Table::table_array(std::string_view key, const toml::node& n) const {
  const toml::array* a = n.as_array();
  if (!a) wrong_type(path(key), n, "an array of tables");
  std::vector<Table> out;
  out.reserve(a->size());
  for (std::size_t i = 0; i < a->size(); ++i) {
    const toml::table* t = (*a)[i].as_table();
    if (!t) wrong_type(path(key) + '[' + std::to_string(i) + ']', (*a)[i], "a table");
    out.emplace_back(*t, file_, path(key), "[[" + path(key) + "]]");
  }
  return out;
}

std::vector<Table> Table::optional_table_array(std::string_view key) {
  const toml::node* n = find(key);
  if (!n) return {};
  return table_array(key, *n);
}

std::vector<Table> Table::required_table_array(std::string_view key) {
  std::vector<Table> out = optional_table_array(key);
  if (out.empty()) throw error_at(where(key), "at least one [[" + path(key) + "]] is required");
  return out;
}

// --- unknown keys

void Table::check_unknown_keys() const {
  const toml::key* first = nullptr;
  auto order = [](const toml::key& k) { return std::tuple(k.source().begin.line, k.source().begin.column); };
  for (const auto& [k, v] : *table_) {
    if (consumed_.count(k.str()) != 0) continue;
    if (!first || order(k) < order(*first)) first = &k;
  }
  if (first)
    throw error_at(position_of(first->source()), "unknown key '" + std::string(first->str()) + "' in " + display_);
}

}  // namespace tomlcheck
