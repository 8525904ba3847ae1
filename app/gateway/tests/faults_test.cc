// keycast-gateway started without --no-huge where EAL gets no hugepages: no
// hugetlbfs where it is told to look (--huge-dir), or more memory asked for
// (-m) than any machine has free. Either way one line says what is missing
// and what to do, and the exit code is 1 (could not start). Config errors
// come before EAL (tests/badconfig/); the output link going down and up under
// a running gateway is tests/faults/link_flap.py.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "gateway_process.h"
#include "keymgr_process.h"

namespace gateway::test {
namespace {

using keymgr::test::TempDir;
using std::chrono::milliseconds;

// A valid config: EAL fails before the key manager would be asked.
constexpr const char* kConfig = R"(mode = "scramble"
[ports]
input = 0
output = 1
[keys]
endpoints = ["127.0.0.1:9"]
peer_id = "gw1"
token = "gw1-lab-token"
[[channel]]
id = 1
input = "239.1.1.1:5000"
output = "239.2.1.1:5000"
suite = "aes128-ctr"
)";

std::vector<std::string> lines_starting(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(prefix, 0) == 0) out.push_back(line);
  return out;
}

class Hugepages : public ::testing::Test {
 protected:
  ~Hugepages() override { remove_runtime_dirs(); }
  // EAL with hugepages (no --no-huge) plus extra, and the gateway's config.
  GatewayRun run(const std::vector<std::string>& extra) {
    std::ofstream(dir_.path() / "gateway.toml") << kConfig;
    std::vector<std::string> a;
    for (const std::string& e : eal_args({})) a.push_back(e);
    // eal_args is for --no-huge runs: keep its prefix, lcores and log level.
    const auto no_huge = std::find(a.begin(), a.end(), "--no-huge");
    a.erase(no_huge, no_huge + 3);  // --no-huge -m 512
    a.insert(a.end(), extra.begin(), extra.end());
    a.insert(a.end(), {"--", "--config", (dir_.path() / "gateway.toml").string()});
    return run_gateway(a, milliseconds(30000));
  }
  // One line of the gateway's own, naming both remedies.
  static void expect_one_clear_line(const GatewayRun& r, const std::string& what) {
    EXPECT_EQ(r.exit_code, 1) << r.output;
    const auto ours = lines_starting(r.output, "keycast-gateway: ");
    ASSERT_EQ(ours.size(), 1u) << r.output;
    EXPECT_NE(ours[0].find(what), std::string::npos) << ours[0];
    EXPECT_NE(ours[0].find("scripts/hugepages/reserve N"), std::string::npos) << ours[0];
    EXPECT_NE(ours[0].find("--no-huge -m 512"), std::string::npos) << ours[0];
  }

  TempDir dir_;
};

TEST_F(Hugepages, NoneWhereEalLooksIsExplained) {
  const auto r = run({"--huge-dir", dir_.path().string()});  // a directory, not a hugetlbfs mount
  expect_one_clear_line(r, "no usable hugepages: EAL found no free 2 MiB hugepages on a mounted hugetlbfs");
}

TEST_F(Hugepages, TooFewForMemoryIsExplained) {
  // 4 TiB: beyond the free hugepages of any machine this runs on. With none
  // free at all EAL fails one step earlier (the message above).
  const auto r = run({"-m", "4194304"});
  const bool none = r.output.find("no usable hugepages") != std::string::npos;
  expect_one_clear_line(r, none ? "no usable hugepages" : "not enough hugepage memory");
}

}  // namespace
}  // namespace gateway::test
