// Owner-only objects: the writer makes 0600, the reader refuses anything else.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "test_keys.h"

namespace keyshm::test {
namespace {

const std::uint32_t kPermissionsChannels[] = {1, 2};

mode_t mode_of(const std::string& name) {
  const int fd = shm_open(("/" + name).c_str(), O_RDONLY, 0);
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0) ADD_FAILURE() << "cannot stat /" << name;
  if (fd >= 0) close(fd);
  return st.st_mode & 07777;
}

// A byte-for-byte copy of a real writer's object under a new name, with mode.
void make_copy(const std::string& from, const std::string& to, mode_t mode) {
  const int src = shm_open(("/" + from).c_str(), O_RDONLY, 0);
  ASSERT_GE(src, 0);
  const off_t size = lseek(src, 0, SEEK_END);
  std::vector<char> bytes(static_cast<std::size_t>(size));
  ASSERT_EQ(pread(src, bytes.data(), bytes.size(), 0), size);
  close(src);
  const int dst = shm_open(("/" + to).c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(dst, 0);
  ASSERT_EQ(fchmod(dst, mode), 0);
  ASSERT_EQ(pwrite(dst, bytes.data(), bytes.size(), 0), size);
  close(dst);
}

TEST(Permissions, WriterCreatesOwnerOnlyObject) {
  const std::string name = unique_name("perm");
  const mode_t old_umask = umask(0);  // a permissive umask must not widen it
  Failure why;
  const auto w = ShmWriter::create(name, kPermissionsChannels, &why);
  umask(old_umask);
  ASSERT_TRUE(w) << why.message;
  EXPECT_EQ(mode_of(name), 0600u);
  EXPECT_TRUE(ShmReader::open(name, &why)) << why.message;
}

TEST(Permissions, ReaderRefusesGroupOrWorldAccess) {
  const std::string name = unique_name("perm");
  Failure why;
  const auto w = ShmWriter::create(name, kPermissionsChannels, &why);
  ASSERT_TRUE(w) << why.message;
  ASSERT_EQ(w->publish(1, rotation(1, 9)), PublishResult::written);
  for (const mode_t mode : {0644u, 0640u, 0604u, 0400u, 0700u}) {
    const std::string copy = unique_name("perm-copy");
    make_copy(name, copy, mode);
    EXPECT_FALSE(ShmReader::open(copy, &why)) << std::oct << mode;
    EXPECT_EQ(why.error, OpenError::permissions) << std::oct << mode;
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode));
    EXPECT_NE(why.message.find(std::string("mode ") + text), std::string::npos) << why.message;
    shm_unlink(("/" + copy).c_str());
  }
  // The same bytes with the right mode are fine.
  const std::string good = unique_name("perm-copy");
  make_copy(name, good, 0600);
  const auto r = ShmReader::open(good, &why);
  ASSERT_TRUE(r) << why.message;
  Snapshot s;
  EXPECT_EQ(r->read(1, s), ReadStatus::ok);
  EXPECT_EQ(snapshot_inconsistency(1, s), "");
  shm_unlink(("/" + good).c_str());
}

TEST(Permissions, ReaderRefusesForeignBytes) {
  const std::string name = unique_name("junk");
  const int fd = shm_open(("/" + name).c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(ftruncate(fd, 8192), 0);
  ASSERT_EQ(pwrite(fd, "NOTOURS!", 8, 0), 8);
  close(fd);
  Failure why;
  EXPECT_FALSE(ShmReader::open(name, &why));
  EXPECT_EQ(why.error, OpenError::bad_layout);
  EXPECT_NE(why.message.find("magic"), std::string::npos) << why.message;
  shm_unlink(("/" + name).c_str());
}

TEST(Permissions, EmptyObjectIsNotReady) {
  const std::string name = unique_name("empty");
  const int fd = shm_open(("/" + name).c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  ASSERT_GE(fd, 0);
  close(fd);
  Failure why;
  EXPECT_FALSE(ShmReader::open(name, &why));
  EXPECT_EQ(why.error, OpenError::not_ready);
  shm_unlink(("/" + name).c_str());
}

}  // namespace
}  // namespace keyshm::test
