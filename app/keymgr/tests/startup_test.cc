// keycast-keymgr refusing to start: state directory or KEK file open to group
// or others (mode bits, so this holds for root too), a KEK file missing (also
// for rotate-kek) or of the wrong size, config faults with their location,
// and the command line.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <fstream>

#include "keymgr_process.h"
#include "test_configs.h"

namespace keymgr::test {
namespace {

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class Startup : public ::testing::Test {
 protected:
  // Writes the config and runs init, as an operator would.
  void prepare(const ConfigOptions& o = {}) {
    std::ofstream(config_) << lab_config(o);
    std::string out;
    ASSERT_EQ(run_keymgr({"init", "--config", config_.string(), "--state-dir", state_.string()}, &out), 0) << out;
  }
  int serve(std::string* out) {
    return run_keymgr({"--config", config_.string(), "--state-dir", state_.string()}, out, std::chrono::seconds(10));
  }

  TempDir dir_;
  std::filesystem::path config_ = dir_.path() / "keymgr.toml";
  std::filesystem::path state_ = dir_.path() / "state";
  std::filesystem::path kek_ = state_ / "kek";
};

TEST_F(Startup, InitMakesAPrivateStateDirectory) {
  ASSERT_NO_FATAL_FAILURE(prepare());
  struct stat st {};
  ASSERT_EQ(stat(state_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(stat(kek_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 077, 0u);
}

TEST_F(Startup, StateDirectoryOpenToOthersIsRefused) {
  ASSERT_NO_FATAL_FAILURE(prepare());
  ASSERT_EQ(chmod(state_.c_str(), 0755), 0);
  std::string out;
  EXPECT_EQ(serve(&out), 1) << out;
  EXPECT_TRUE(has(out, state_.string())) << out;
  EXPECT_TRUE(has(out, "0755")) << out;
}

TEST_F(Startup, KekFileOpenToOthersIsRefused) {
  ASSERT_NO_FATAL_FAILURE(prepare());
  ASSERT_EQ(chmod(kek_.c_str(), 0644), 0);
  std::string out;
  EXPECT_EQ(serve(&out), 1) << out;
  EXPECT_TRUE(has(out, kek_.string())) << out;
  EXPECT_TRUE(has(out, "0644")) << out;
}

TEST_F(Startup, MissingKekIsRefused) {
  ASSERT_NO_FATAL_FAILURE(prepare());
  std::filesystem::remove(kek_);
  std::string out;
  EXPECT_EQ(serve(&out), 1) << out;
  EXPECT_TRUE(has(out, kek_.string())) << out;
  EXPECT_TRUE(has(out, "No such file")) << out;
}

TEST_F(Startup, KekOfTheWrongSizeIsRefused) {
  ASSERT_NO_FATAL_FAILURE(prepare());
  std::filesystem::resize_file(kek_, 16);
  std::string out;
  EXPECT_EQ(serve(&out), 1) << out;
  EXPECT_TRUE(has(out, "KEK file " + kek_.string() + ": size is 16 bytes, must be exactly 32")) << out;
}

TEST_F(Startup, RotateKekWithoutTheKekIsRefused) {
  ASSERT_NO_FATAL_FAILURE(prepare());
  std::filesystem::remove(kek_);
  std::string out;
  EXPECT_EQ(run_keymgr({"rotate-kek", "--config", config_.string(), "--state-dir", state_.string()}, &out), 1) << out;
  EXPECT_TRUE(has(out, "keycast-keymgr rotate-kek: KEK file " + kek_.string() + ": No such file or directory")) << out;
  EXPECT_FALSE(std::filesystem::exists(kek_.string() + ".new"));
}

TEST_F(Startup, UnknownConfigKeyNamesItsPlace) {
  ConfigOptions o;
  o.server_extra = "listen_backlog = 10\n";  // line 5 of [server]
  std::ofstream(config_) << lab_config(o);
  std::filesystem::create_directories(state_);
  std::filesystem::permissions(state_, std::filesystem::perms::owner_all);
  std::string out;
  EXPECT_EQ(serve(&out), 2) << out;
  EXPECT_TRUE(has(out, config_.string() + ":5:1: unknown key")) << out;
  EXPECT_TRUE(has(out, "listen_backlog")) << out;

  std::string init_out;
  EXPECT_EQ(run_keymgr({"init", "--config", config_.string(), "--state-dir", state_.string()}, &init_out), 2)
      << init_out;
}

TEST_F(Startup, HelpNamesTheSubcommands) {
  std::string out;
  EXPECT_EQ(run_keymgr({"--help"}, &out), 0) << out;
  EXPECT_TRUE(has(out, "accounts")) << out;
  EXPECT_TRUE(has(out, "init")) << out;
  EXPECT_EQ(run_keymgr({"accounts", "--help"}, &out), 0) << out;
  EXPECT_TRUE(has(out, "--format")) << out;
}

TEST_F(Startup, AccountsRefusesAnUnknownFormat) {
  ASSERT_NO_FATAL_FAILURE(prepare());
  std::string out;
  EXPECT_EQ(run_keymgr({"accounts", "--state-dir", state_.string(), "--format", "xml"}, &out), 2) << out;
  EXPECT_TRUE(has(out, "xml")) << out;
}

TEST_F(Startup, ServingNeedsAConfig) {
  ASSERT_NO_FATAL_FAILURE(prepare());
  std::string out;
  EXPECT_EQ(run_keymgr({"--state-dir", state_.string()}, &out, std::chrono::seconds(10)), 2) << out;
  EXPECT_TRUE(has(out, "--config")) << out;
}

}  // namespace
}  // namespace keymgr::test
