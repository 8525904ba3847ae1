// keycast-recv --config: a full file read into Options, command-line flags
// overriding it, and errors that name FILE:LINE:COL.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "../config_file.h"
#include "tomlcheck/error.h"

namespace keycast_recv {
namespace {

std::filesystem::path write(const std::string& text) {
  const auto p = std::filesystem::temp_directory_path() /
                 ("recv-config-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".toml");
  std::ofstream(p) << text;
  return p;
}

// The ConfigError's message, or "" when the file loads.
std::string error_of(const std::string& text) {
  const auto p = write(text);
  try {
    load_config(p);
  } catch (const tomlcheck::ConfigError& e) {
    std::filesystem::remove(p);
    return e.what();
  }
  std::filesystem::remove(p);
  return "";
}

constexpr const char* kKeymgr = "[keymgr]\nendpoints = [\"127.0.0.1:7700\"]\npeer = \"rx1\"\ntoken = \"t\"\n";

TEST(RecvConfig, ReadsEveryOption) {
  const auto p = write(
      "[keymgr]\nendpoints = [\"127.0.0.1:7700\", \"[::1]:7701\"]\nfailover = \"round-robin\"\npeer = \"rx1\"\n"
      "token = \"rx1-lab-token\"\n"
      "[receive]\niface = \"lo\"\ntimeout_ms = 500\ncount = 9\nbatch = 64\nhold_timeout_ms = 80\n"
      "metrics_listen = \"127.0.0.1:0\"\n"
      "[[join]]\ngroup = \"239.255.1.1:5000\"\nchannel = 1\nout = \"a.ts\"\n"
      "[[join]]\ngroup = \"232.1.1.1:5000@10.0.0.1\"\nchannel = 2\nout = \"udp://239.1.1.1:6000\"\n");
  const Options o = load_config(p);
  std::filesystem::remove(p);
  EXPECT_EQ(o.keymgr, (std::vector<std::string>{"127.0.0.1:7700", "[::1]:7701"}));
  EXPECT_EQ(o.failover, "round-robin");
  EXPECT_EQ(o.peer, "rx1");
  EXPECT_EQ(o.token, "rx1-lab-token");
  EXPECT_EQ(o.iface, "lo");
  EXPECT_EQ(o.timeout_ms, 500u);
  EXPECT_EQ(o.count, 9u);
  EXPECT_EQ(o.batch, 64u);
  EXPECT_EQ(o.hold_timeout_ms, 80u);
  EXPECT_EQ(o.metrics_listen, "127.0.0.1:0");
  EXPECT_EQ(o.joins, (std::vector<std::string>{"239.255.1.1:5000", "232.1.1.1:5000@10.0.0.1"}));
  EXPECT_EQ(o.channels, (std::vector<std::uint32_t>{1, 2}));
  EXPECT_EQ(o.outs, (std::vector<std::string>{"a.ts", "udp://239.1.1.1:6000"}));
  EXPECT_TRUE(make_plan(o).error.empty()) << make_plan(o).error;
}

TEST(RecvConfig, FlagsOverrideTheFile) {
  const auto p = write(std::string(kKeymgr) + "[[join]]\ngroup = \"239.255.1.1:5000\"\nchannel = 1\nout = \"a.ts\"\n");
  const Options file = load_config(p);
  std::filesystem::remove(p);
  Options flags;
  flags.peer = "rx2";
  flags.joins = {"239.255.1.2:5000"};
  const std::set<std::string> given{"--peer", "--join"};
  const Options o = merge(file, flags, [&](const char* f) { return given.count(f) > 0; });
  EXPECT_EQ(o.peer, "rx2");
  EXPECT_EQ(o.token, "t");
  EXPECT_EQ(o.joins, flags.joins);
  EXPECT_TRUE(o.channels.empty());  // --join brings its own (none)
  EXPECT_TRUE(o.outs.empty());
}

TEST(RecvConfig, ErrorsNameFileLineAndColumn) {
  const std::string join = "[[join]]\ngroup = \"239.255.1.1:5000\"\n";
  EXPECT_NE(error_of(std::string(kKeymgr) + "colour = 1\n" + join).find(".toml:5:1: unknown key 'colour'"),
            std::string::npos)
      << error_of(std::string(kKeymgr) + "colour = 1\n" + join);
  EXPECT_NE(error_of(std::string(kKeymgr) + "[[join]]\ngroup = \"239.255.1.1\"\n").find(".toml:6:9: join.group: expected"),
            std::string::npos)
      << error_of(std::string(kKeymgr) + "[[join]]\ngroup = \"239.255.1.1\"\n");
  EXPECT_NE(error_of(std::string(kKeymgr) + "[receive]\nbatch = 0\n" + join).find(".toml:6:9:"), std::string::npos)
      << error_of(std::string(kKeymgr) + "[receive]\nbatch = 0\n" + join);
  EXPECT_NE(error_of("[keymgr]\nendpoints = [\"nowhere\"]\npeer = \"rx1\"\ntoken = \"t\"\n" + join)
                .find(".toml:2:14: keymgr.endpoints[0]: expected HOST:PORT"),
            std::string::npos)
      << error_of("[keymgr]\nendpoints = [\"nowhere\"]\npeer = \"rx1\"\ntoken = \"t\"\n" + join);
  EXPECT_NE(error_of("[keymgr]\nendpoints = [\"127.0.0.1:1\"]\npeer = \"rx1\"\n" + join).find("missing key 'token'"),
            std::string::npos);
  EXPECT_NE(error_of(std::string(kKeymgr) + join + "channel = 1\n" + join).find("missing key 'channel'"),
            std::string::npos)
      << error_of(std::string(kKeymgr) + join + "channel = 1\n" + join);
  EXPECT_NE(error_of(kKeymgr).find("at least one [[join]] is required"), std::string::npos) << error_of(kKeymgr);
}

}  // namespace
}  // namespace keycast_recv
