// Tests of lib/tomlcheck: getters, defaults, unknown keys and the exact
// "FILE:LINE:COL: what" messages.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "tomlcheck/document.h"

namespace {

using tomlcheck::ConfigError;
using tomlcheck::Document;
using tomlcheck::Table;

// Runs `read` over the document and returns the ConfigError message, or "".
std::string error_of(const std::string& text, const std::function<void(Table&)>& read) {
  try {
    Document doc = Document::from_string(text, "t.toml");
    Table root = doc.root();
    read(root);
    return "";
  } catch (const ConfigError& e) {
    return e.what();
  }
}

TEST(Tomlcheck, ReadsEveryType) {
  const Document doc = Document::from_string(
      "flag = true\nn = -5\nf = 0.5\nfi = 2\ns = \"hi\"\nlist = [1, 2, 3]\n"
      "[sub]\nx = 1\n[[item]]\nname = \"a\"\n[[item]]\nname = \"b\"\n",
      "t.toml");
  Table root = doc.root();
  EXPECT_TRUE(root.required_bool("flag"));
  EXPECT_EQ(root.required_int("n", -10, 10), -5);
  EXPECT_DOUBLE_EQ(root.required_float("f"), 0.5);
  EXPECT_DOUBLE_EQ(root.required_float("fi"), 2.0);
  EXPECT_EQ(root.required_string("s"), "hi");
  EXPECT_EQ(root.required_int_array("list", 1, 3), (std::vector<std::int64_t>{1, 2, 3}));
  Table sub = root.required_table("sub");
  EXPECT_EQ(sub.required_int("x"), 1);
  sub.check_unknown_keys();
  auto items = root.required_table_array("item");
  ASSERT_EQ(items.size(), 2U);
  EXPECT_EQ(items[0].required_string("name"), "a");
  EXPECT_EQ(items[1].required_string("name"), "b");
  EXPECT_EQ(items[1].where().line, 11U);
  for (auto& i : items) i.check_unknown_keys();
  EXPECT_FALSE(root.optional_bool("absent").has_value());
  EXPECT_FALSE(root.optional_int("absent").has_value());
  EXPECT_FALSE(root.optional_float("absent").has_value());
  EXPECT_FALSE(root.optional_string("absent").has_value());
  EXPECT_FALSE(root.optional_int_array("absent").has_value());
  EXPECT_FALSE(root.optional_table("absent").has_value());
  EXPECT_TRUE(root.optional_table_array("absent").empty());
  root.check_unknown_keys();
}

TEST(Tomlcheck, PositionsOfKeysAndElements) {
  const Document doc = Document::from_string("[a]\nlist = [1, 22, 333]\n", "t.toml");
  Table a = *doc.root().optional_table("a");
  EXPECT_EQ(to_string(a.where()), "t.toml:1:1");
  EXPECT_EQ(to_string(a.where("list")), "t.toml:2:8");
  EXPECT_EQ(to_string(a.where("list", 2)), "t.toml:2:16");
  EXPECT_EQ(to_string(a.where("absent")), "t.toml:1:1");
  EXPECT_EQ(a.path("list"), "a.list");
}

struct Case {
  const char* name;
  const char* text;
  std::function<void(Table&)> read;
  const char* message;
};

class TomlcheckErrors : public ::testing::TestWithParam<Case> {};

TEST_P(TomlcheckErrors, ExactMessage) {
  EXPECT_EQ(error_of(GetParam().text, GetParam().read), GetParam().message);
}

void server_lab(Table& r) { (void)r.required_table("server").required_bool("lab"); }

INSTANTIATE_TEST_SUITE_P(
    All, TomlcheckErrors,
    ::testing::Values(
        Case{"parse_error", "a = 1\nb = [1,\n", [](Table&) {},
             "t.toml:2:9: Error while parsing array: encountered end-of-file"},
        Case{"duplicate_key", "a = 1\na = 2\n", [](Table&) {},
             "t.toml:2:5: Error while parsing key-value pair: cannot redefine existing integer 'a'"},
        Case{"wrong_bool", "[server]\nlab = \"yes\"\n", server_lab,
             "t.toml:2:7: server.lab: expected a boolean, got a string"},
        Case{"missing_key", "\n[server]\n", server_lab, "t.toml:2:1: missing key 'lab' in [server]"},
        Case{"missing_table", "x = 1\n", server_lab, "t.toml:1:1: missing table [server]"},
        Case{"table_not_table", "server = 3\n", server_lab,
             "t.toml:1:10: server: expected a table, got an integer"},
        Case{"int_range", "n = 0\n", [](Table& r) { (void)r.required_int("n", 1, 9); },
             "t.toml:1:5: n: must be between 1 and 9, got 0"},
        Case{"int_min", "n = -1\n", [](Table& r) { (void)r.required_int("n", 0); },
             "t.toml:1:5: n: must be >= 0, got -1"},
        Case{"int_type", "n = 1.5\n", [](Table& r) { (void)r.optional_int("n"); },
             "t.toml:1:5: n: expected an integer, got a float"},
        Case{"float_type", "f = \"x\"\n", [](Table& r) { (void)r.optional_float("f"); },
             "t.toml:1:5: f: expected a number, got a string"},
        Case{"string_type", "s = [1]\n", [](Table& r) { (void)r.required_string("s"); },
             "t.toml:1:5: s: expected a string, got an array"},
        Case{"array_type", "[p]\nl = 1\n",
             [](Table& r) { (void)r.required_table("p").optional_int_array("l"); },
             "t.toml:2:5: p.l: expected an array of integers, got an integer"},
        Case{"array_element", "[p]\nl = [1, \"2\"]\n",
             [](Table& r) { (void)r.required_table("p").optional_int_array("l"); },
             "t.toml:2:9: p.l[1]: expected an integer, got a string"},
        Case{"array_element_range", "l = [1, 2, 30]\n",
             [](Table& r) { (void)r.required_int_array("l", 1, 9); },
             "t.toml:1:12: l[2]: must be between 1 and 9, got 30"},
        Case{"table_array_type", "c = 1\n", [](Table& r) { (void)r.optional_table_array("c"); },
             "t.toml:1:5: c: expected an array of tables, got an integer"},
        Case{"table_array_element", "c = [1]\n", [](Table& r) { (void)r.optional_table_array("c"); },
             "t.toml:1:6: c[0]: expected a table, got an integer"},
        Case{"table_array_empty", "x = 1\n", [](Table& r) { (void)r.required_table_array("channel"); },
             "t.toml:1:1: at least one [[channel]] is required"},
        Case{"unknown_root", "a = 1\nzz = 2\nb = 3\n",
             [](Table& r) {
               (void)r.optional_int("a");
               r.check_unknown_keys();
             },
             "t.toml:2:1: unknown key 'zz' in the top-level table"},
        Case{"unknown_first_in_file_order", "[server]\nlisten = 1\nzeta = 1\nalpha = 2\n",
             [](Table& r) { r.required_table("server").check_unknown_keys(); },
             "t.toml:2:1: unknown key 'listen' in [server]"},
        Case{"unknown_in_array_table", "[[peer]]\nid = 1\n[[peer]]\nid = 2\n  extra = 3\n",
             [](Table& r) {
               for (auto& p : r.optional_table_array("peer")) {
                 (void)p.required_int("id");
                 p.check_unknown_keys();
               }
             },
             "t.toml:5:3: unknown key 'extra' in [[peer]]"},
        Case{"semantic_fail", "[channel]\nlifetime_ms = 0\n",
             [](Table& r) { r.required_table("channel").fail("lifetime_ms", "must be > 0"); },
             "t.toml:2:15: channel.lifetime_ms: must be > 0"},
        Case{"semantic_fail_element", "l = [1, 2]\n", [](Table& r) { r.fail("l", 1, "duplicate"); },
             "t.toml:1:9: l[1]: duplicate"},
        Case{"missing_with_reason", "[[peer]]\nid = 1\n",
             [](Table& r) { r.optional_table_array("peer")[0].fail_missing("token", "lab mode"); },
             "t.toml:1:1: missing key 'token' in [[peer]] (lab mode)"}),
    [](const ::testing::TestParamInfo<Case>& i) { return std::string(i.param.name); });

TEST(Tomlcheck, FileNotFound) {
  try {
    (void)Document::from_file("/nonexistent/keycast.toml");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "/nonexistent/keycast.toml: cannot read: No such file or directory");
  }
}

TEST(Tomlcheck, FileParseErrorNamesThePath) {
  const auto path = std::filesystem::temp_directory_path() / "tomlcheck_test_bad.toml";
  std::ofstream(path) << "ok = 1\nbad = \n";
  try {
    (void)Document::from_file(path);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(path.string() + ":2:", 0), 0U) << e.what();
  }
  std::filesystem::remove(path);
}

}  // namespace
