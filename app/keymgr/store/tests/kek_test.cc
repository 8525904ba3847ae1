// KEK file checks: missing, wrong size, not a regular file, group/other
// access refused; 0600 and 0400 accepted; create_kek_file makes a usable key.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "store/kek.h"
#include "test_util.h"

namespace keymgr::store {
namespace {

void write_file(const std::string& path, std::size_t size, mode_t mode) {
  std::ofstream(path, std::ios::binary) << std::string(size, 'k');
  chmod(path.c_str(), mode);
}

TEST(Kek, MissingFileRefusedWithItsName) {
  test::TempDir dir;
  auto k = Kek::load(dir.file("nope"));
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.error(), StoreError::refused);
  EXPECT_NE(k.message().find(dir.file("nope")), std::string::npos) << k.message();
}

TEST(Kek, WrongSizeRefused) {
  test::TempDir dir;
  for (std::size_t size : {0u, 16u, 31u, 33u, 64u}) {
    const std::string p = dir.file("kek" + std::to_string(size));
    write_file(p, size, 0600);
    auto k = Kek::load(p);
    ASSERT_FALSE(k.ok()) << size;
    EXPECT_NE(k.message().find("size"), std::string::npos) << k.message();
    EXPECT_NE(k.message().find(p), std::string::npos) << k.message();
  }
}

TEST(Kek, GroupOrOtherAccessRefused) {
  test::TempDir dir;
  for (mode_t mode : {0644, 0640, 0604, 0660, 0602, 0620}) {
    const std::string p = dir.file("kek");
    unlink(p.c_str());
    write_file(p, 32, mode);
    auto k = Kek::load(p);
    ASSERT_FALSE(k.ok()) << std::oct << mode;
    EXPECT_EQ(k.error(), StoreError::refused);
    EXPECT_NE(k.message().find("mode"), std::string::npos) << k.message();
    EXPECT_NE(k.message().find(p), std::string::npos) << k.message();
  }
}

TEST(Kek, OwnerOnlyAccepted) {
  test::TempDir dir;
  for (mode_t mode : {0600, 0400}) {
    const std::string p = dir.file("kek");
    unlink(p.c_str());
    write_file(p, 32, mode);
    auto k = Kek::load(p);
    ASSERT_TRUE(k.ok()) << k.message();
    EXPECT_EQ(k->bytes()[0], 'k');
  }
}

TEST(Kek, DirectoryRefused) {
  test::TempDir dir;
  mkdir(dir.file("d").c_str(), 0700);
  auto k = Kek::load(dir.file("d"));
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.message().find("regular file"), std::string::npos) << k.message();
}

TEST(Kek, CreateWritesPrivateRandomKeyOnce) {
  test::TempDir dir;
  const std::string p = dir.file("kek");
  ASSERT_TRUE(create_kek_file(p).ok());
  struct stat st {};
  ASSERT_EQ(stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_size, 32);
  auto k = Kek::load(p);
  ASSERT_TRUE(k.ok()) << k.message();

  auto again = create_kek_file(p);
  EXPECT_FALSE(again.ok());
  auto still = Kek::load(p);
  ASSERT_TRUE(still.ok());
  EXPECT_TRUE(std::equal(k->bytes().begin(), k->bytes().end(), still->bytes().begin()));

  const std::string p2 = dir.file("kek2");
  ASSERT_TRUE(create_kek_file(p2).ok());
  auto k2 = Kek::load(p2);
  ASSERT_TRUE(k2.ok());
  EXPECT_FALSE(std::equal(k->bytes().begin(), k->bytes().end(), k2->bytes().begin()));
}

}  // namespace
}  // namespace keymgr::store
