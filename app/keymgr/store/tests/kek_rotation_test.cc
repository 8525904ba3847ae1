// KEK rotation (kek_rotation.h) and its recovery at open (store_open.h): keys
// keep their material and versions under the new KEK, the old KEK no longer
// opens the store, a rotation killed after its commit is finished at the next
// open and one killed before it is undone, files stay 0600, and the state
// lock keeps a rotation and a server apart.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <vector>

#include "store/kek_rotation.h"
#include "store/store_open.h"
#include "test_util.h"

namespace keymgr::store {
namespace {

using Bytes = std::vector<char>;

Bytes read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

bool exists(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0;
}

std::uint16_t len_of(std::uint32_t key_id) { return static_cast<std::uint16_t>(16 * key_id); }

unsigned mode_of(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? st.st_mode & 0777 : 0;
}

class KekRotation : public ::testing::Test {
 protected:
  // A store under a fresh KEK file with three live keys and an expired one.
  void SetUp() override {
    ASSERT_TRUE(create_kek_file(kek_).ok());
    auto s = open_store(dir_.path(), kek_, StateLock::Mode::shared, log_to(&lines_));
    ASSERT_TRUE(s.ok()) << s.message();
    for (std::uint32_t id = 1; id <= 4; ++id) ASSERT_TRUE(s->store.put_key(test::make_key(7, id, len_of(id))).ok());
    ASSERT_TRUE(s->store.expire_key(7, 1).ok());
    for (std::uint32_t id = 1; id <= 4; ++id) versions_.push_back(s->store.get_key(7, id)->version);
    old_kek_ = read_bytes(kek_);
  }

  static OpenLog log_to(std::vector<std::string>* lines) {
    return [lines](const std::string& l) { lines->push_back(l); };
  }

  // Every key as put in SetUp, through a store opened the way serve does.
  void expect_keys_intact() {
    auto s = open_store(dir_.path(), kek_, StateLock::Mode::shared, log_to(&lines_));
    ASSERT_TRUE(s.ok()) << s.message();
    for (std::uint32_t id = 1; id <= 4; ++id) {
      auto k = s->store.get_key(7, id);
      ASSERT_TRUE(k.ok()) << k.message();
      EXPECT_EQ(k->version, versions_[id - 1]) << id;
      EXPECT_EQ(k->expired, id == 1) << id;
      if (id != 1) {
        EXPECT_TRUE(k->key.material == test::material_for(7, id, len_of(id))) << id;
      }
    }
  }

  // Runs rotate_kek in a child that dies (_exit, no clean-up) at stage.
  void crash_at(RotateStage stage) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      (void)rotate_kek(dir_.path(), kek_, [](const std::string&) {}, [stage](RotateStage s) {
        if (s == stage) _exit(42);
      });
      _exit(1);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 42) << "status " << status;
  }

  test::TempDir dir_;
  std::string kek_ = dir_.file("kek");
  std::string pending_ = kek_ + ".new";
  std::vector<std::uint64_t> versions_;
  std::vector<std::string> lines_;
  Bytes old_kek_;
};

TEST_F(KekRotation, RewrapsEveryLiveKeyAndTheOldKekNoLongerOpens) {
  std::vector<std::string> lines;
  auto n = rotate_kek(dir_.path(), kek_, log_to(&lines));
  ASSERT_TRUE(n.ok()) << n.message();
  EXPECT_EQ(*n, 3u);  // the expired key has no material
  EXPECT_TRUE(lines.empty());
  EXPECT_FALSE(exists(pending_));
  const Bytes new_kek = read_bytes(kek_);
  ASSERT_EQ(new_kek.size(), Kek::kSize);
  EXPECT_NE(new_kek, old_kek_);
  EXPECT_EQ(mode_of(kek_), 0600u);
  for (const char* f : {"keys.db", "keymgr.lock"}) EXPECT_EQ(mode_of(dir_.file(f)), 0600u) << f;

  const auto old = Kek::from_bytes(std::span<const std::uint8_t, Kek::kSize>(
      reinterpret_cast<const std::uint8_t*>(old_kek_.data()), Kek::kSize));
  auto stale = KeyStore::open(dir_.path(), old);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error(), StoreError::refused);
  EXPECT_NE(stale.message().find("does not match"), std::string::npos) << stale.message();
  expect_keys_intact();

  auto again = rotate_kek(dir_.path(), kek_, log_to(&lines));  // a second rotation works the same
  ASSERT_TRUE(again.ok()) << again.message();
  EXPECT_NE(read_bytes(kek_), new_kek);
  expect_keys_intact();
  EXPECT_TRUE(lines_.empty());
}

TEST_F(KekRotation, StoreKeepsWorkingUnderTheNewKek) {
  auto s = open_store(dir_.path(), kek_, StateLock::Mode::exclusive, log_to(&lines_));
  ASSERT_TRUE(s.ok()) << s.message();
  const Kek next = test::test_kek(9);
  ASSERT_EQ(*s->store.rewrap(next), 3u);
  ASSERT_TRUE(s->store.put_key(test::make_key(7, 5)).ok());
  auto k = s->store.get_key(7, 4);
  ASSERT_TRUE(k.ok()) << k.message();
  EXPECT_TRUE(k->key.material == test::material_for(7, 4, 64));
  auto reopened = KeyStore::open(dir_.path(), next);
  ASSERT_TRUE(reopened.ok()) << reopened.message();
  EXPECT_TRUE(reopened->get_key(7, 5)->key.material == test::material_for(7, 5, 16));
}

TEST_F(KekRotation, CrashAfterCommitIsFinishedAtTheNextOpen) {
  ASSERT_NO_FATAL_FAILURE(crash_at(RotateStage::committed));
  ASSERT_TRUE(exists(pending_));
  EXPECT_EQ(mode_of(pending_), 0600u);
  const Bytes new_kek = read_bytes(pending_);
  EXPECT_EQ(read_bytes(kek_), old_kek_);  // not renamed yet

  ASSERT_NO_FATAL_FAILURE(expect_keys_intact());
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_NE(lines_[0].find("finished an interrupted rotate-kek"), std::string::npos) << lines_[0];
  EXPECT_FALSE(exists(pending_));
  EXPECT_EQ(read_bytes(kek_), new_kek);
  EXPECT_EQ(mode_of(kek_), 0600u);
  expect_keys_intact();
  EXPECT_EQ(lines_.size(), 1u);  // settled once
}

TEST_F(KekRotation, CrashBeforeCommitLeavesTheOldKekAndRemovesTheStaleFile) {
  ASSERT_NO_FATAL_FAILURE(crash_at(RotateStage::new_kek_written));
  ASSERT_TRUE(exists(pending_));
  ASSERT_NO_FATAL_FAILURE(expect_keys_intact());
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_NE(lines_[0].find("removed " + pending_), std::string::npos) << lines_[0];
  EXPECT_FALSE(exists(pending_));
  EXPECT_EQ(read_bytes(kek_), old_kek_);
}

TEST_F(KekRotation, APartlyWrittenNewKekIsStaleToo) {
  std::ofstream(pending_, std::ios::binary) << "short";
  auto n = rotate_kek(dir_.path(), kek_, log_to(&lines_));  // settles it, then rotates
  ASSERT_TRUE(n.ok()) << n.message();
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_NE(lines_[0].find("removed"), std::string::npos) << lines_[0];
  expect_keys_intact();
}

TEST_F(KekRotation, WrongKekWithoutAMatchingNewFileIsRefused) {
  ASSERT_TRUE(create_kek_file(pending_).ok());  // a random key: matches nothing
  ASSERT_EQ(unlink(kek_.c_str()), 0);
  ASSERT_TRUE(create_kek_file(kek_).ok());
  auto s = open_store(dir_.path(), kek_, StateLock::Mode::shared, log_to(&lines_));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(), StoreError::refused);
  EXPECT_NE(s.message().find("does not match"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find(pending_), std::string::npos) << s.message();
  EXPECT_TRUE(exists(pending_));  // nothing touched
  EXPECT_TRUE(lines_.empty());
}

TEST_F(KekRotation, RefusedWhileTheStoreIsServedAndViceVersa) {
  {
    auto serving = open_store(dir_.path(), kek_, StateLock::Mode::shared, log_to(&lines_));
    ASSERT_TRUE(serving.ok()) << serving.message();
    auto n = rotate_kek(dir_.path(), kek_, log_to(&lines_));
    ASSERT_FALSE(n.ok());
    EXPECT_EQ(n.error(), StoreError::refused);
    EXPECT_NE(n.message().find("in use by a running keycast-keymgr"), std::string::npos) << n.message();
    EXPECT_FALSE(exists(pending_));
    EXPECT_EQ(read_bytes(kek_), old_kek_);
  }
  auto rotating = StateLock::acquire(dir_.path(), StateLock::Mode::exclusive);
  ASSERT_TRUE(rotating.ok()) << rotating.message();
  auto s = open_store(dir_.path(), kek_, StateLock::Mode::shared, log_to(&lines_));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("rotate-kek"), std::string::npos) << s.message();
}

TEST_F(KekRotation, SymbolicLinkKekFileIsRefused) {
  const std::string link = dir_.file("kek-link");
  ASSERT_EQ(symlink(kek_.c_str(), link.c_str()), 0);
  auto n = rotate_kek(dir_.path(), link, log_to(&lines_));
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.message().find("symbolic link"), std::string::npos) << n.message();
  EXPECT_EQ(read_bytes(kek_), old_kek_);
}

}  // namespace
}  // namespace keymgr::store
