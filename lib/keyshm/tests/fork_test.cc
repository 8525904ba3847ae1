// Across processes: a child writes, the parent reads, as a gateway reads the
// key manager's object.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

#include "test_keys.h"

namespace keyshm::test {
namespace {

const std::uint32_t kForkChannels[] = {3};

// The child: publish rotating keys for about a second, then shut down.
[[noreturn]] void child_writer(const std::string& name, int ready_fd) {
  Failure why;
  auto w = ShmWriter::create(name, kForkChannels, &why);
  if (!w || w->publish(3, rotation(3, 1)) != PublishResult::written) _exit(1);
  if (write(ready_fd, "r", 1) != 1) _exit(1);
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  for (std::uint32_t k = 2; std::chrono::steady_clock::now() < end; ++k)
    if (w->publish(3, rotation(3, k, k % 5 == 0)) != PublishResult::written) _exit(1);
  w.reset();
  _exit(0);
}

TEST(Fork, ParentReadsWhatTheChildWrites) {
  const std::string name = unique_name("fork");
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    child_writer(name, fds[1]);
  }
  close(fds[1]);
  char c = 0;
  ASSERT_EQ(read(fds[0], &c, 1), 1) << "the child did not create the object";
  close(fds[0]);

  Failure why;
  const auto r = ShmReader::open(name, &why);
  ASSERT_TRUE(r) << why.message;
  EXPECT_EQ(r->writer_pid(), child);
  std::uint64_t accepted = 0, inconsistent = 0, busy = 0, torn = 0;
  std::uint32_t first = 0, last = 0;
  std::string problem;
  Snapshot s;
  ReadStatus st = ReadStatus::ok;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < give_up) {
    ReadTrace trace;
    st = r->read(3, s, &trace);
    torn += trace.torn;
    if (st == ReadStatus::busy) {
      ++busy;
      continue;
    }
    if (st != ReadStatus::ok) break;
    if (s.count == 0) continue;  // the child's shutdown wiped the slot
    ++accepted;
    if (const auto why_not = snapshot_inconsistency(3, s); !why_not.empty()) {
      ++inconsistent;
      if (problem.empty()) problem = why_not;
      continue;
    }
    last = s.find(KeyState::current)->key_id;
    if (!first) first = last;
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child writer failed";
  std::printf("fork: %llu snapshots accepted (current key %u..%u), %llu inconsistent, %llu busy, %llu torn retries\n",
              static_cast<unsigned long long>(accepted), first, last, static_cast<unsigned long long>(inconsistent),
              static_cast<unsigned long long>(busy), static_cast<unsigned long long>(torn));
  EXPECT_GT(accepted, 0u);
  EXPECT_GT(last, first) << "the parent never saw a rotation";
  EXPECT_EQ(inconsistent, 0u) << problem;
  EXPECT_EQ(st, ReadStatus::closed) << "the child's shutdown should end the loop";
  EXPECT_EQ(r->writer_status(), WriterStatus::closed);
  EXPECT_LT(shm_open(("/" + name).c_str(), O_RDONLY, 0), 0) << "the child's writer should have unlinked it";
}

}  // namespace
}  // namespace keyshm::test
