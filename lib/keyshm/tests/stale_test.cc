// A stale object under the name (a crashed writer, or foreign bytes with a
// loose mode) is replaced, and readers of the old one can tell.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "test_keys.h"

namespace keyshm::test {
namespace {

const std::uint32_t kStaleChannels[] = {1, 2};

TEST(Stale, ForeignObjectIsReplacedByAnOwnerOnlyOne) {
  const std::string name = unique_name("stale");
  const int fd = shm_open(("/" + name).c_str(), O_RDWR | O_CREAT | O_EXCL, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(fchmod(fd, 0644), 0);
  ASSERT_EQ(ftruncate(fd, 100), 0);
  close(fd);

  Failure why;
  const auto w = ShmWriter::create(name, kStaleChannels, &why);
  ASSERT_TRUE(w) << why.message;
  ASSERT_EQ(w->publish(2, rotation(2, 3)), PublishResult::written);
  const auto r = ShmReader::open(name, &why);
  ASSERT_TRUE(r) << why.message;
  Snapshot s;
  ASSERT_EQ(r->read(2, s), ReadStatus::ok);
  EXPECT_EQ(snapshot_inconsistency(2, s), "");
}

TEST(Stale, CrashedWriterIsReplacedAndItsReadersSeeTheRestart) {
  const std::string name = unique_name("crash");
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // a writer that dies without its destructor
    Failure why;
    auto* w = ShmWriter::create(name, kStaleChannels, &why).release();
    _exit(w && w->publish(1, rotation(1, 50)) == PublishResult::written ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

  Failure why;
  const auto old_reader = ShmReader::open(name, &why);
  ASSERT_TRUE(old_reader) << why.message;
  EXPECT_EQ(old_reader->writer_pid(), child);
  EXPECT_EQ(old_reader->writer_status(), WriterStatus::live);  // nothing tells a crash from a pause
  Snapshot s;
  ASSERT_EQ(old_reader->read(1, s), ReadStatus::ok);
  EXPECT_EQ(s.find(KeyState::current)->key_id, 50u);

  const auto w = ShmWriter::create(name, kStaleChannels, &why);
  ASSERT_TRUE(w) << why.message;
  EXPECT_GT(w->generation(), old_reader->generation());
  EXPECT_EQ(old_reader->writer_status(), WriterStatus::restarted);
  ASSERT_EQ(w->publish(1, rotation(1, 51)), PublishResult::written);
  const auto new_reader = ShmReader::open(name, &why);
  ASSERT_TRUE(new_reader) << why.message;
  EXPECT_EQ(new_reader->generation(), w->generation());
  EXPECT_EQ(new_reader->writer_status(), WriterStatus::live);
  ASSERT_EQ(new_reader->read(1, s), ReadStatus::ok);
  EXPECT_EQ(s.find(KeyState::current)->key_id, 51u);
}

TEST(Stale, AnOlderWriterDoesNotUnlinkItsReplacement) {
  const std::string name = unique_name("older");
  Failure why;
  auto first = ShmWriter::create(name, kStaleChannels, &why);
  ASSERT_TRUE(first) << why.message;
  const auto second = ShmWriter::create(name, kStaleChannels, &why);
  ASSERT_TRUE(second) << why.message;
  first.reset();
  const auto r = ShmReader::open(name, &why);
  ASSERT_TRUE(r) << why.message;
  EXPECT_EQ(r->generation(), second->generation());
  EXPECT_EQ(r->writer_status(), WriterStatus::live);
}

TEST(Stale, RemovedNameIsGone) {
  const std::string name = unique_name("gone");
  Failure why;
  const auto w = ShmWriter::create(name, kStaleChannels, &why);
  ASSERT_TRUE(w) << why.message;
  const auto r = ShmReader::open(name, &why);
  ASSERT_TRUE(r) << why.message;
  ASSERT_EQ(shm_unlink(("/" + name).c_str()), 0);
  EXPECT_EQ(r->writer_status(), WriterStatus::gone);
}

}  // namespace
}  // namespace keyshm::test
