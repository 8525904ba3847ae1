// main() of every GoogleTest binary. A binary may hold the tests of several
// files (they share one compile of GoogleTest and the common headers); each
// file is still its own meson test: KEYCAST_TEST_FILE=<path> runs only the
// tests defined in the file whose path ends with it, within any
// --gtest_filter given. Without it, every test runs (as gtest_main does).
// A test defined outside a *_test.cc file (in a shared header) would belong
// to no file's run: with KEYCAST_TEST_FILE set, that is an error.
#include <fnmatch.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace {

bool defined_in(const testing::TestInfo& test, std::string_view file) {
  const std::string_view path = test.file();
  if (path == file) return true;
  return path.size() > file.size() && path.ends_with(file) && path[path.size() - file.size() - 1] == '/';
}

// Splits "A:B-C:D" into its positive (A, B) and negative ("C:D") parts.
std::vector<std::string> positive_patterns(const std::string& filter, std::string* negative) {
  const auto dash = filter.find('-');
  const std::string positive = filter.substr(0, dash);
  *negative = dash == std::string::npos ? "" : filter.substr(dash + 1);
  std::vector<std::string> patterns;
  std::size_t start = 0;
  while (start <= positive.size()) {
    const auto colon = positive.find(':', start);
    const std::string pattern = positive.substr(start, colon - start);
    if (!pattern.empty()) patterns.push_back(pattern);
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return patterns;
}

bool matches_any(const std::vector<std::string>& patterns, const std::string& name) {
  if (patterns.empty()) return true;
  for (const auto& pattern : patterns) {
    if (fnmatch(pattern.c_str(), name.c_str(), 0) == 0) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  const char* file = std::getenv("KEYCAST_TEST_FILE");
  if (file == nullptr || *file == '\0') return RUN_ALL_TESTS();

  std::string negative;
  const auto patterns = positive_patterns(GTEST_FLAG_GET(filter), &negative);
  const testing::UnitTest& unit = *testing::UnitTest::GetInstance();
  std::string selected;
  int in_file = 0;
  for (int s = 0; s < unit.total_test_suite_count(); ++s) {
    const testing::TestSuite& suite = *unit.GetTestSuite(s);
    for (int t = 0; t < suite.total_test_count(); ++t) {
      const testing::TestInfo& test = *suite.GetTestInfo(t);
      if (!std::string_view(test.file()).ends_with("_test.cc")) {
        std::fprintf(stderr, "%s.%s is defined in %s, not in a *_test.cc file: no KEYCAST_TEST_FILE runs it\n",
                     suite.name(), test.name(), test.file());
        return 1;
      }
      if (!defined_in(test, file)) continue;
      ++in_file;
      const std::string name = std::string(suite.name()) + "." + test.name();
      if (!matches_any(patterns, name)) continue;
      selected += (selected.empty() ? "" : ":") + name;
    }
  }
  if (in_file == 0) {
    std::fprintf(stderr, "KEYCAST_TEST_FILE=%s: no test of this binary is defined in such a file\n", file);
    return 1;
  }
  // A filter that excludes every test of the file selects none.
  if (selected.empty()) selected = "-*";
  else if (!negative.empty()) selected += "-" + negative;
  GTEST_FLAG_SET(filter, selected);
  return RUN_ALL_TESTS();
}
