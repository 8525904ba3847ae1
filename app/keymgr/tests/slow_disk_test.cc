// The key manager on a slow disk (every fsync half a second longer, by the
// slow_sync shim preloaded into it): key requests are answered while a usage
// report waits for its sync, and a report in flight when it is told to stop
// is still answered.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include "keymgr_process.h"
#include "test_client.h"
#include "test_configs.h"

namespace keymgr::test {
namespace {

using kmproto::MessageType;
using kmproto::ParamType;

// Sets a variable for the processes started while it lives.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

class SlowDisk : public ::testing::Test {
 protected:
  void SetUp() override {
    trigger_ = dir_.path() / "slow";
    {
      const ScopedEnv preload("LD_PRELOAD", KEYCAST_SLOW_SYNC_SHIM);
      const ScopedEnv file("KEYCAST_SLOW_SYNC_FILE", trigger_.string());
      // Where the binaries carry ASan, a preloaded library is fine.
      const char* asan = std::getenv("ASAN_OPTIONS");
      const ScopedEnv asan_options("ASAN_OPTIONS", std::string(asan ? asan : "") + ":verify_asan_link_order=0");
      km_ = KeymgrProcess::start(dir_.path(), lab_config());
    }
    ASSERT_TRUE(km_);
    gw_.emplace(km_->port());
    ASSERT_EQ(gw_->hello(kGateway, "gw1", "gw1-lab-token")->error_code(), 0);
  }
  void slow(bool on) {
    if (on) {
      std::ofstream(trigger_).put('\n');
    } else {
      std::filesystem::remove(trigger_);
    }
  }
  // A usage report of channel 1's first key, made at start.
  void send_usage_report() {
    gw_->send(frame(MessageType::usage_report, {{ParamType::channel_id, u32(1)}, {ParamType::key_id, u32(1)},
                                               {ParamType::packets, u64(10)}, {ParamType::bytes, u64(13160)}}));
  }
  void expect_usage_answered(std::chrono::milliseconds within) {
    const auto answer = gw_->read(within);
    ASSERT_TRUE(answer) << km_->log();
    EXPECT_EQ(answer->type, kmproto::answer_of(MessageType::usage_report)) << answer->error_text();
  }

  TempDir dir_;
  std::filesystem::path trigger_;
  std::unique_ptr<KeymgrProcess> km_;
  std::optional<TestClient> gw_;
};

TEST_F(SlowDisk, KeyRequestsAreAnsweredWhileAUsageReportWaitsForItsSync) {
  TestClient rx(km_->port());
  ASSERT_EQ(rx.hello(kReceiver, "rx1", "rx1-lab-token")->error_code(), 0);
  slow(true);
  send_usage_report();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // taken, its sync under way
  const auto served = rx.key_request(1);
  ASSERT_TRUE(served);
  EXPECT_EQ(served->error_code(), 0) << served->error_text();
  // Its sync has 400 ms to go: nothing within 50 ms.
  EXPECT_FALSE(gw_->read(std::chrono::milliseconds(50)))
      << "the usage report was answered first: the key request waited for its sync";
  expect_usage_answered(std::chrono::seconds(5));
  slow(false);
}

TEST_F(SlowDisk, AUsageReportInFlightAtStopIsAnswered) {
  slow(true);
  send_usage_report();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_EQ(::kill(km_->pid(), SIGTERM), 0);
  expect_usage_answered(std::chrono::seconds(5));
  slow(false);
  const int status = km_->stop(0);  // signalled above: only waits for the exit
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << km_->log();
}

}  // namespace
}  // namespace keymgr::test
