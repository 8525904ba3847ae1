// The key manager with its state directory failing under it: the disk full
// (a small tmpfs filled up), the file system turned read-only by the kernel
// (ext4 on a loop device, errors=remount-ro, after an error), the KEK file
// deleted or replaced while serving. Writes are answered `unavailable`, keys
// already stored keep being served, the fault is logged once with the state
// directory and the OS error, and nothing acknowledged is lost. Mounting needs
// root; those tests are skipped elsewhere.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "keymgr_process.h"
#include "test_client.h"
#include "test_configs.h"

namespace keymgr::test {
namespace {

using kmproto::ErrorCode;
using kmproto::MessageType;
using kmproto::ParamType;

// Runs a shell command; its exit status, stdout+stderr in *out.
int shell(const std::string& command, std::string* out) {
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (!p) return -1;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p)) out->append(buf);
  const int status = ::pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::size_t count_lines(const std::string& log, const std::string& a, const std::string& b) {
  std::istringstream in(log);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);)
    n += line.find(a) != std::string::npos && line.find(b) != std::string::npos;
  return n;
}

// A file system of the test's own holding the state directory, unmounted
// (and its loop device released) at the end.
class TestDisk {
 public:
  // A 2 MB tmpfs at `at` (the state directory itself, 0700).
  static std::unique_ptr<TestDisk> tmpfs(const std::filesystem::path& at) {
    std::filesystem::create_directories(at);
    if (mount("tmpfs", at.c_str(), "tmpfs", 0, "size=2m,mode=0700") != 0) return nullptr;
    auto d = std::unique_ptr<TestDisk>(new TestDisk);
    d->mount_point_ = at;
    d->state_ = at;
    d->mounted_ = true;
    return d;
  }
  // A 16 MB ext4 image in dir on a loop device, errors=remount-ro; the state
  // directory is state/ on it. Null, with why, where that cannot be done.
  static std::unique_ptr<TestDisk> ext4(const std::filesystem::path& dir, std::string* why) {
    auto d = std::unique_ptr<TestDisk>(new TestDisk);
    d->image_ = dir / "disk.img";
    d->mount_point_ = dir / "disk";
    d->state_ = d->mount_point_ / "state";
    std::filesystem::create_directories(d->mount_point_);
    std::string out;
    if (shell("truncate -s 16M " + d->image_.string() + " && mkfs.ext4 -q " + d->image_.string(), &out) != 0) {
      *why = "mkfs.ext4: " + out;
      return nullptr;
    }
    out.clear();
    if (shell("losetup --find --show " + d->image_.string(), &out) != 0) {
      *why = "losetup: " + out;
      return nullptr;
    }
    d->loop_ = out.substr(0, out.find('\n'));
    if (!d->mount_ext4()) {
      *why = "mount " + d->loop_ + ": " + std::strerror(errno);
      return nullptr;
    }
    return d;
  }
  ~TestDisk() {
    if (mounted_) umount2(mount_point_.c_str(), MNT_DETACH);
    std::string out;
    if (!loop_.empty()) (void)shell("losetup -d " + loop_, &out);
  }

  const std::filesystem::path& state() const { return state_; }

  // tmpfs: fills it up with a file; returns its path.
  std::filesystem::path fill() const {
    const auto f = mount_point_ / "filler";
    std::ofstream out(f, std::ios::binary);
    const std::vector<char> block(4096, 'x');
    while (out.write(block.data(), static_cast<std::streamsize>(block.size())) && out.flush()) {
    }
    return f;
  }
  // ext4: an error as a failing disk would report it; errors=remount-ro then
  // makes the kernel turn the file system read-only under the open files.
  bool make_read_only() const {
    std::ofstream trigger("/sys/fs/ext4/" + loop_.substr(loop_.rfind('/') + 1) + "/trigger_fs_error");
    return static_cast<bool>(trigger << "keycast store_faults_test\n" << std::flush);
  }
  // ext4, with nothing open on it: checked and mounted again, as an operator
  // brings a file system back after such an error.
  bool check_and_remount() {
    if (umount2(mount_point_.c_str(), 0) != 0) return false;
    mounted_ = false;
    std::string out;
    if (shell("e2fsck -fy " + loop_, &out) > 1) return false;  // 1: errors corrected
    return mount_ext4();
  }

 private:
  TestDisk() = default;
  bool mount_ext4() {
    mounted_ = mount(loop_.c_str(), mount_point_.c_str(), "ext4", 0, "errors=remount-ro") == 0;
    return mounted_;
  }

  std::filesystem::path image_, mount_point_, state_;
  std::string loop_;
  bool mounted_ = false;
};

std::vector<std::uint8_t> generate_current() {
  return frame(MessageType::key_generate, {{ParamType::channel_id, u32(4)}, {ParamType::which, u8(1)},
                                           {ParamType::suite, u8(2)}, {ParamType::key_length, u16(64)},
                                           {ParamType::lifetime_ms, u32(10000)}});
}

// A key manager on a TestDisk, one key acknowledged before the fault, and the
// promises every state-directory fault keeps.
class StoreFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to mount a file system for the state directory";
  }
  // Starts the key manager on disk_ and has gw1 make a key (acked_).
  void start() {
    km_ = KeymgrProcess::start(dir_.path(), lab_config(), disk_->state());
    ASSERT_TRUE(km_);
    gw_ = std::make_unique<TestClient>(km_->port());
    ASSERT_TRUE(gw_->hello(1, "gw1", "gw1-lab-token"));
    gw_->send(generate_current());
    const auto answer = gw_->read();
    ASSERT_TRUE(answer);
    ASSERT_EQ(answer->error_code(), 0) << answer->error_text();
    acked_ = answer->key_records().at(0);
  }
  void expect_writes_answered_unavailable() {
    for (int i = 0; i < 3; ++i) {
      gw_->send(generate_current());
      const auto made = gw_->read();
      ASSERT_TRUE(made);
      EXPECT_EQ(made->error_code(), static_cast<std::uint16_t>(ErrorCode::unavailable)) << made->error_text();
    }
    gw_->send(frame(MessageType::usage_report,
                    {{ParamType::channel_id, u32(4)}, {ParamType::key_id, u32(acked_.key_id)},
                     {ParamType::packets, u64(1)}, {ParamType::bytes, u64(1316)}}));
    const auto usage = gw_->read();
    ASSERT_TRUE(usage);
    EXPECT_EQ(usage->error_code(), static_cast<std::uint16_t>(ErrorCode::unavailable));
  }
  // The acknowledged key byte for byte, and a receiver's keys.
  void expect_reads_served() {
    const auto read = gw_->key_request(4, acked_.key_id);
    ASSERT_TRUE(read);
    ASSERT_EQ(read->error_code(), 0) << read->error_text();
    EXPECT_TRUE(std::ranges::equal(read->key_records().at(0).material(), acked_.material()));
    TestClient rx(km_->port());
    ASSERT_TRUE(rx.hello(2, "rx1", "rx1-lab-token"));
    const auto served = rx.key_request(1);
    ASSERT_TRUE(served);
    EXPECT_EQ(served->error_code(), 0) << served->error_text();
  }
  // Exactly one line for the fault, naming the database in the state
  // directory and the cause, however many requests failed.
  void expect_logged_once(const std::string& cause) {
    const std::string log = km_->log();
    const std::string db = (disk_->state() / "keys.db").string();
    EXPECT_EQ(count_lines(log, "store: cannot write", db), 1u) << log;
    EXPECT_EQ(count_lines(log, "store: cannot write", cause), 1u) << log;
    EXPECT_EQ(count_lines(log, "store:", ""), 1u) << log;
  }
  // A new key succeeds without a restart, and says so once in the log.
  void expect_writes_again() {
    gw_->send(generate_current());
    const auto after = gw_->read();
    ASSERT_TRUE(after);
    EXPECT_EQ(after->error_code(), 0) << after->error_text();
    EXPECT_GT(after->key_records().at(0).key_id, acked_.key_id);
    EXPECT_EQ(count_lines(km_->log(), "store: written again", ""), 1u) << km_->log();
  }
  // After a restart from the state directory the acknowledged key is there.
  void expect_acked_key_after_restart() {
    gw_.reset();
    if (km_) km_->stop(SIGKILL);
    km_ = KeymgrProcess::start(dir_.path(), lab_config(), disk_->state());
    ASSERT_TRUE(km_);
    TestClient gw2(km_->port());
    ASSERT_TRUE(gw2.hello(1, "gw1", "gw1-lab-token"));
    const auto restored = gw2.key_request(4, acked_.key_id);
    ASSERT_TRUE(restored);
    if (restored->error_code() == 0) {
      EXPECT_TRUE(std::ranges::equal(restored->key_records().at(0).material(), acked_.material()));
    } else {  // superseded by a later key and past grace: expired, not lost
      EXPECT_EQ(restored->error_code(), static_cast<std::uint16_t>(ErrorCode::unknown_key));
    }
    km_->stop(SIGTERM);
  }

  TempDir dir_;
  std::unique_ptr<TestDisk> disk_;
  std::unique_ptr<KeymgrProcess> km_;
  std::unique_ptr<TestClient> gw_;
  kmproto::KeyRecord acked_{};
};

TEST_F(StoreFaults, DiskFullAnswersUnavailableKeepsServingAndRecovers) {
  disk_ = TestDisk::tmpfs(dir_.path() / "state");
  if (!disk_) GTEST_SKIP() << "cannot mount tmpfs here";
  ASSERT_NO_FATAL_FAILURE(start());

  const auto filler = disk_->fill();
  ASSERT_NO_FATAL_FAILURE(expect_writes_answered_unavailable());
  ASSERT_NO_FATAL_FAILURE(expect_reads_served());
  expect_logged_once("database or disk is full");

  std::filesystem::remove(filler);  // space again
  ASSERT_NO_FATAL_FAILURE(expect_writes_again());
  expect_acked_key_after_restart();
}

// An administrator cannot remount the state directory read-only under a
// running key manager (the kernel refuses while files are open for writing:
// EBUSY); the kernel itself does it after a disk error. It cannot be made
// writable again in place either (ext4 refuses remount,rw after that), so
// recovery is a restart once the file system is checked and mounted again.
TEST_F(StoreFaults, ReadOnlyFileSystemAnswersUnavailableKeepsServingAndKeepsAcknowledgedKeys) {
  std::string why;
  disk_ = TestDisk::ext4(dir_.path(), &why);
  if (!disk_) GTEST_SKIP() << "no ext4 on a loop device here: " << why;
  ASSERT_NO_FATAL_FAILURE(start());

  ASSERT_TRUE(disk_->make_read_only()) << "no /sys/fs/ext4/*/trigger_fs_error";
  ASSERT_NO_FATAL_FAILURE(expect_writes_answered_unavailable());
  ASSERT_NO_FATAL_FAILURE(expect_reads_served());
  expect_logged_once("Read-only file system");

  gw_.reset();
  km_->stop(SIGTERM);
  km_.reset();
  ASSERT_TRUE(disk_->check_and_remount());
  expect_acked_key_after_restart();
}

// The KEK is read once at start. Deleted or replaced while serving: the keys
// are still served and made under the loaded KEK, the change is logged at
// once, and the next start is refused until the file holds that KEK again.
class KekFile : public ::testing::Test {
 protected:
  void SetUp() override {
    km_ = KeymgrProcess::start(dir_.path(), lab_config());
    ASSERT_TRUE(km_);
    kek_ = km_->state_dir() / "kek";
    backup_ = dir_.path() / "kek.backup";
    std::filesystem::copy_file(kek_, backup_);
    gw_ = std::make_unique<TestClient>(km_->port());
    ASSERT_TRUE(gw_->hello(1, "gw1", "gw1-lab-token"));
    gw_->send(generate_current());
    const auto answer = gw_->read();
    ASSERT_TRUE(answer);
    ASSERT_EQ(answer->error_code(), 0) << answer->error_text();
    acked_ = answer->key_records().at(0);
  }
  // Keys still served byte for byte, and still made.
  void expect_still_serving() {
    const auto read = gw_->key_request(4, acked_.key_id);
    ASSERT_TRUE(read);
    ASSERT_EQ(read->error_code(), 0) << read->error_text();
    EXPECT_TRUE(std::ranges::equal(read->key_records().at(0).material(), acked_.material()));
    gw_->send(generate_current());
    const auto made = gw_->read();
    ASSERT_TRUE(made);
    ASSERT_EQ(made->error_code(), 0) << made->error_text();
    latest_ = made->key_records().at(0);
  }
  // The change is logged within the watch period (1 s), once.
  void expect_logged(const std::string& part) {
    for (int i = 0; i < 40 && count_lines(km_->log(), kek_.string(), part) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // a second look says nothing new
    EXPECT_EQ(count_lines(km_->log(), "KEK file " + kek_.string(), part), 1u) << km_->log();
  }
  int restart(std::string* out) {
    gw_.reset();
    km_->stop(SIGTERM);
    return run_keymgr({"--config", km_->config_file().string(), "--state-dir", km_->state_dir().string()}, out,
                      std::chrono::seconds(3));
  }
  // Once the backup is back, the store opens and serves the key made while
  // the file was gone or replaced.
  void expect_restored_from_backup() {
    std::filesystem::copy_file(backup_, kek_, std::filesystem::copy_options::overwrite_existing);
    km_ = KeymgrProcess::start(dir_.path(), lab_config());
    ASSERT_TRUE(km_);
    TestClient gw(km_->port());
    ASSERT_TRUE(gw.hello(1, "gw1", "gw1-lab-token"));
    const auto read = gw.key_request(4, latest_.key_id);
    ASSERT_TRUE(read);
    ASSERT_EQ(read->error_code(), 0) << read->error_text();
    EXPECT_TRUE(std::ranges::equal(read->key_records().at(0).material(), latest_.material()));
  }

  TempDir dir_;
  std::unique_ptr<KeymgrProcess> km_;
  std::unique_ptr<TestClient> gw_;
  std::filesystem::path kek_, backup_;
  kmproto::KeyRecord acked_{}, latest_{};
};

TEST_F(KekFile, DeletedWhileServing) {
  std::filesystem::remove(kek_);
  ASSERT_NO_FATAL_FAILURE(expect_still_serving());
  expect_logged("No such file or directory (removed while serving)");
  std::string out;
  EXPECT_EQ(restart(&out), 1) << out;
  EXPECT_TRUE(count_lines(out, "KEK file " + kek_.string(), "No such file or directory")) << out;
  expect_restored_from_backup();
}

TEST_F(KekFile, ReplacedWhileServing) {
  std::filesystem::remove(kek_);
  std::string out;
  ASSERT_EQ(run_keymgr({"init", "--config", km_->config_file().string(), "--state-dir", km_->state_dir().string()},
                       &out), 0) << out;  // a new, different KEK
  ASSERT_NO_FATAL_FAILURE(expect_still_serving());
  expect_logged("changed while serving");
  EXPECT_EQ(restart(&out), 1) << out;
  EXPECT_TRUE(count_lines(out, "the KEK does not match", "")) << out;
  expect_restored_from_backup();
}

}  // namespace
}  // namespace keymgr::test
