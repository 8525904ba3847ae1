// kill -9 durability, with commits made durable at once or by WalSync (as the
// key manager serves): a child process puts keys and counts requests, telling
// the parent over a pipe after each acknowledged write; the parent SIGKILLs it
// at a random moment, reopens the store and checks that every acknowledged key
// is there, byte-identical, and no acknowledged request count is lost.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include <sqlite3.h>

#include "store/key_store.h"
#include "store/wal_sync.h"
#include "test_util.h"

namespace keymgr::store {
namespace {

constexpr std::uint32_t kChannel = 1;
const std::string kPeer = "rx1";
constexpr std::uint64_t kNowMs = 1'700'000'000'000ull;

struct Ack {
  std::uint32_t kind;  // 1 key put, 2 request counted
  std::uint32_t key_id;
  std::uint64_t version;
};

std::uint16_t len_of(std::uint32_t key_id) { return static_cast<std::uint16_t>(key_id % 64 * 16 + 16); }

// Deferred: commits to the OS, each acknowledged once WalSync says it is on
// the disk (with a checkpoint asked for whenever the WAL is long), as
// keycast-keymgr serves.
[[noreturn]] void child(const std::string& dir, std::uint32_t first_id, int fd, bool deferred) {
  auto store = KeyStore::open(dir, test::test_kek());
  if (!store) _exit(2);
  std::mutex m;
  std::condition_variable cv;
  std::uint64_t synced = 0, ticket = 0;
  std::unique_ptr<WalSync> sync;
  if (deferred) {
    if (!store->defer_sync()) _exit(7);
    auto w = WalSync::open(
        store->path(),
        [&](std::uint64_t t, int error, double) {
          if (error) _exit(8);
          std::lock_guard lock(m);
          synced = t;
          cv.notify_all();
        },
        [](const std::string&) { _exit(9); });
    if (!w) _exit(7);
    sync = std::move(*w);
  }
  auto on_disk = [&] {
    if (!sync) return;
    sync->request(++ticket, store->wal_frames() >= 1000);
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return synced >= ticket; });
  };
  for (std::uint32_t id = first_id;; ++id) {
    auto v = store->put_key(test::make_key(kChannel, id, len_of(id)));
    if (!v) _exit(3);
    on_disk();
    Ack a{1, id, *v};
    if (write(fd, &a, sizeof a) != static_cast<ssize_t>(sizeof a)) _exit(4);
    if (!store->add_requests(kPeer, kChannel, kNowMs)) _exit(5);
    on_disk();
    a = Ack{2, id, 0};
    if (write(fd, &a, sizeof a) != static_cast<ssize_t>(sizeof a)) _exit(4);
    if (id % 5 == 0 && !store->expire_key(kChannel, id - 4)) _exit(6);
  }
}

class Durability : public ::testing::TestWithParam<bool> {};

TEST_P(Durability, SigkillLosesNoAcknowledgedWrite) {
  test::TempDir dir;
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  std::map<std::uint32_t, std::uint64_t> acked;  // key_id -> version
  std::uint64_t acked_requests = 0;
  std::uint64_t started = 0;

  for (int iteration = 0; iteration < 5; ++iteration) {
    std::uint32_t first_id = 1;
    {
      auto s = KeyStore::open(dir.path(), test::test_kek());
      ASSERT_TRUE(s.ok()) << s.message();
      first_id = *s->max_key_id(kChannel) + 1;
    }
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      child(dir.path(), first_id, fds[1], GetParam());
    }
    close(fds[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(20, 300)(rng)));
    kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early with status " << WEXITSTATUS(status);
    ++started;

    Ack a{};
    while (read(fds[0], &a, sizeof a) == static_cast<ssize_t>(sizeof a)) {
      if (a.kind == 1) acked[a.key_id] = a.version;
      if (a.kind == 2) ++acked_requests;
    }
    close(fds[0]);

    auto s = KeyStore::open(dir.path(), test::test_kek());
    ASSERT_TRUE(s.ok()) << s.message();
    char* err = nullptr;
    std::string integrity;
    sqlite3_exec(
        s->native_handle(), "PRAGMA integrity_check",
        [](void* out, int, char** vals, char**) {
          *static_cast<std::string*>(out) += vals[0] ? vals[0] : "";
          return 0;
        },
        &integrity, &err);
    EXPECT_EQ(integrity, "ok");

    for (const auto& [id, version] : acked) {
      auto got = s->get_key(kChannel, id);
      ASSERT_TRUE(got.ok()) << "acknowledged key " << id << ": " << got.message();
      if (got->expired) continue;  // expired by a later acknowledged step
      EXPECT_EQ(got->version, version) << "key " << id;
      EXPECT_TRUE(got->key.material == test::material_for(kChannel, id, len_of(id))) << "key " << id;
    }
    auto rows = s->accounts({});
    ASSERT_TRUE(rows.ok());
    std::uint64_t requests = 0;
    for (auto& r : *rows) requests += r.requests;
    EXPECT_GE(requests, acked_requests);
    EXPECT_LE(requests, acked_requests + started);  // at most one unacknowledged per kill
  }
  EXPECT_GT(acked.size(), 0u);
  std::printf("%zu keys and %llu request counts acknowledged over %llu kills\n", acked.size(),
              static_cast<unsigned long long>(acked_requests), static_cast<unsigned long long>(started));
}

INSTANTIATE_TEST_SUITE_P(Commits, Durability, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) { return p.param ? "DeferredSync" : "FullSync"; });

}  // namespace
}  // namespace keymgr::store
