// The key manager with its state on a full disk: writes are answered
// `unavailable`, reads of existing keys keep working, nothing acknowledged is
// lost, and it recovers by itself once space is free. The state directory is
// a small tmpfs the test mounts (root only; skipped elsewhere).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "keymgr_process.h"
#include "test_client.h"
#include "test_configs.h"

namespace keymgr::test {
namespace {

using kmproto::ErrorCode;
using kmproto::MessageType;
using kmproto::ParamType;

class SmallDisk {
 public:
  explicit SmallDisk(const std::filesystem::path& at) : at_(at) {
    std::filesystem::create_directories(at);
    mounted_ = mount("tmpfs", at.c_str(), "tmpfs", 0, "size=2m,mode=0700") == 0;
  }
  ~SmallDisk() {
    if (mounted_) umount2(at_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  // Fills the file system up with a file; returns its path.
  std::filesystem::path fill() const {
    const auto f = at_ / "filler";
    std::ofstream out(f, std::ios::binary);
    const std::vector<char> block(4096, 'x');
    while (out.write(block.data(), static_cast<std::streamsize>(block.size())) && out.flush()) {
    }
    return f;
  }

 private:
  std::filesystem::path at_;
  bool mounted_ = false;
};

std::vector<std::uint8_t> generate_current() {
  return frame(MessageType::key_generate, {{ParamType::channel_id, u32(4)}, {ParamType::which, u8(1)},
                                           {ParamType::suite, u8(2)}, {ParamType::key_length, u16(64)},
                                           {ParamType::lifetime_ms, u32(10000)}});
}

TEST(StoreFaults, DiskFullAnswersUnavailableKeepsServingAndRecovers) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to mount a small tmpfs";
  TempDir dir;
  SmallDisk disk(dir.path() / "state");
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount tmpfs here";
  auto km = KeymgrProcess::start(dir.path(), lab_config(), dir.path() / "state");
  ASSERT_TRUE(km);

  TestClient gw(km->port());
  ASSERT_TRUE(gw.hello(1, "gw1", "gw1-lab-token"));
  gw.send(generate_current());
  const auto before = gw.read();
  ASSERT_TRUE(before);
  ASSERT_EQ(before->error_code(), 0) << before->error_text();
  const auto acked = before->key_records().at(0);

  const auto filler = disk.fill();
  gw.send(generate_current());
  const auto full = gw.read();
  ASSERT_TRUE(full);
  EXPECT_EQ(full->error_code(), static_cast<std::uint16_t>(ErrorCode::unavailable)) << full->error_text();
  gw.send(frame(MessageType::usage_report, {{ParamType::channel_id, u32(4)}, {ParamType::key_id, u32(acked.key_id)},
                                            {ParamType::packets, u64(1)}, {ParamType::bytes, u64(1316)}}));
  const auto usage = gw.read();
  ASSERT_TRUE(usage);
  EXPECT_EQ(usage->error_code(), static_cast<std::uint16_t>(ErrorCode::unavailable));

  // Reads of existing keys still work, byte for byte.
  const auto read = gw.key_request(4, acked.key_id);
  ASSERT_TRUE(read);
  ASSERT_EQ(read->error_code(), 0) << read->error_text();
  const auto again = read->key_records().at(0);
  EXPECT_TRUE(std::ranges::equal(again.material(), acked.material()));
  TestClient rx(km->port());
  ASSERT_TRUE(rx.hello(2, "rx1", "rx1-lab-token"));
  const auto served = rx.key_request(1);
  ASSERT_TRUE(served);
  EXPECT_EQ(served->error_code(), 0) << served->error_text();

  // Space again: writes succeed without a restart.
  std::filesystem::remove(filler);
  gw.send(generate_current());
  const auto after = gw.read();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->error_code(), 0) << after->error_text();
  EXPECT_GT(after->key_records().at(0).key_id, acked.key_id);

  // Nothing acknowledged was lost: a restart serves the same key.
  km->stop(SIGKILL);
  km = KeymgrProcess::start(dir.path(), lab_config(), dir.path() / "state");
  ASSERT_TRUE(km);
  TestClient gw2(km->port());
  ASSERT_TRUE(gw2.hello(1, "gw1", "gw1-lab-token"));
  const auto restored = gw2.key_request(4, acked.key_id);
  ASSERT_TRUE(restored);
  if (restored->error_code() == 0) {
    EXPECT_TRUE(std::ranges::equal(restored->key_records().at(0).material(), acked.material()));
  } else {  // superseded by the later key and past grace: expired, not lost
    EXPECT_EQ(restored->error_code(), static_cast<std::uint16_t>(ErrorCode::unknown_key));
  }
  km->stop(SIGTERM);
}

}  // namespace
}  // namespace keymgr::test
