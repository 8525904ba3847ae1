// WalSync: tickets, coalesced syncs, failures, checkpoints after the sync,
// and on a real store with deferred sync: the WAL is checkpointed only when
// asked, a real sync succeeds, and the store reads back after a reopen.
#include "store/wal_sync.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "store/key_store.h"
#include "test_util.h"

namespace keymgr::store {
namespace {

// What a WalSync reported, with a wait for a ticket.
struct Reports {
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::pair<std::uint64_t, int>> done;  // (ticket, error)

  WalSync::Done callback() {
    return [this](std::uint64_t ticket, int error, double) {
      std::lock_guard lock(m);
      done.emplace_back(ticket, error);
      cv.notify_all();
    };
  }
  bool wait_for(std::uint64_t ticket) {
    std::unique_lock lock(m);
    return cv.wait_for(lock, std::chrono::seconds(10),
                       [&] { return !done.empty() && done.back().first >= ticket; });
  }
};

// A sync that waits until opened, counting its calls.
struct Gate {
  std::mutex m;
  std::condition_variable cv;
  bool open = false;
  int calls = 0;

  int pass() {
    std::unique_lock lock(m);
    ++calls;
    cv.notify_all();
    cv.wait(lock, [&] { return open; });
    return 0;
  }
  void wait_calls(int n) {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return calls >= n; });
  }
  void release() {
    std::lock_guard lock(m);
    open = true;
    cv.notify_all();
  }
};

TEST(WalSync, TicketsAskedDuringASyncAreCoveredByTheNextOne) {
  Reports reports;
  Gate gate;
  {
    WalSync sync([&] { return gate.pass(); }, [] {}, reports.callback());
    sync.request(1, false);
    gate.wait_calls(1);  // the sync for ticket 1 is under way
    sync.request(2, false);
    sync.request(3, false);
    gate.release();
    ASSERT_TRUE(reports.wait_for(3));
    std::lock_guard lock(reports.m);
    ASSERT_EQ(reports.done.size(), 2u);
    EXPECT_EQ(reports.done[0], std::make_pair(std::uint64_t{1}, 0));
    EXPECT_EQ(reports.done[1], std::make_pair(std::uint64_t{3}, 0));
  }
  EXPECT_EQ(gate.calls, 3);  // 1, then 2 and 3 together, then once more at stop
}

TEST(WalSync, AFailedSyncIsReportedWithItsError) {
  Reports reports;
  {
    WalSync sync([] { return EIO; }, [] {}, reports.callback());
    sync.request(7, false);
    ASSERT_TRUE(reports.wait_for(7));
  }
  std::lock_guard lock(reports.m);
  ASSERT_GE(reports.done.size(), 1u);
  EXPECT_EQ(reports.done[0], std::make_pair(std::uint64_t{7}, EIO));
}

TEST(WalSync, CheckpointFollowsTheSyncOnlyWhenAsked) {
  Reports reports;
  std::mutex m;
  std::vector<std::string> order;
  auto note = [&](const char* what) {
    std::lock_guard lock(m);
    order.push_back(what);
  };
  {
    WalSync sync([&] { note("sync"); return 0; }, [&] { note("checkpoint"); }, reports.callback());
    sync.request(1, false);
    ASSERT_TRUE(reports.wait_for(1));
    sync.request(2, true);
    ASSERT_TRUE(reports.wait_for(2));
  }
  std::lock_guard lock(m);
  EXPECT_EQ(order, (std::vector<std::string>{"sync", "sync", "checkpoint", "sync"}));
}

TEST(WalSync, NoCheckpointAfterAFailedSync) {
  Reports reports;
  int checkpoints = 0;
  {
    WalSync sync([] { return EIO; }, [&] { ++checkpoints; }, reports.callback());
    sync.request(1, true);
    ASSERT_TRUE(reports.wait_for(1));
  }
  EXPECT_EQ(checkpoints, 0);
}

class DeferredStore : public ::testing::Test {
 protected:
  void SetUp() override {
    store_.emplace(test::open_store(dir_));
    ASSERT_TRUE(store_->defer_sync().ok());
    auto w = WalSync::open(store_->path(), reports_.callback(), [this](const std::string& line) { log_.push_back(line); });
    ASSERT_TRUE(w.ok()) << w.message();
    sync_ = std::move(*w);
  }
  void put(std::uint32_t key_id) {
    auto v = store_->put_key(test::make_key(1, key_id, 32));
    ASSERT_TRUE(v.ok()) << v.message();
  }

  test::TempDir dir_;
  std::optional<KeyStore> store_;
  Reports reports_;
  std::vector<std::string> log_;
  std::unique_ptr<WalSync> sync_;
};

TEST_F(DeferredStore, WalIsCheckpointedWhenAskedNotByTheCommits) {
  std::uint32_t id = 0;
  while (store_->wal_frames() < 1200 && id < 5000) put(++id);
  const int before = store_->wal_frames();
  ASSERT_GE(before, 1200) << "checkpointed by a commit (SQLite's automatic checkpoint is at 1000 frames)";
  sync_->request(1, true);
  ASSERT_TRUE(reports_.wait_for(1));
  sync_.reset();  // the checkpoint follows the report: done once the thread stops
  put(++id);      // the WAL starts over after a complete checkpoint
  EXPECT_LT(store_->wal_frames(), 20) << "before: " << before;
  EXPECT_TRUE(log_.empty()) << log_.front();
}

// What a real fdatasync of the WAL says, and that a store written this way
// (checkpointing connection beside it) reads back whole. A power cut, which
// the sync is for, cannot be made here: the kill -9 test is in durability_test.
TEST_F(DeferredStore, ARealSyncSucceedsAndTheStoreReadsBack) {
  for (std::uint32_t id = 1; id <= 20; ++id) put(id);
  ASSERT_TRUE(store_->add_usage("gw1", 1, 3, 10, 13160, 1'700'000'000'000ull).ok());
  sync_->request(1, false);
  ASSERT_TRUE(reports_.wait_for(1));
  EXPECT_EQ(reports_.done.back().second, 0);
  sync_.reset();
  store_.reset();
  auto s = KeyStore::open(dir_.path(), test::test_kek());
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(*s->max_key_id(1), 20u);
  auto k = s->get_key(1, 7);
  ASSERT_TRUE(k.ok());
  EXPECT_TRUE(k->key.material == test::material_for(1, 7, 32));
  auto rows = s->accounts({});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].packets, 10u);
}

TEST(WalSyncOpen, RefusedWithoutAWal) {
  test::TempDir dir;
  auto w = WalSync::open(dir.file("keys.db"), [](std::uint64_t, int, double) {}, [](const std::string&) {});
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.message().find("keys.db-wal"), std::string::npos) << w.message();
}

}  // namespace
}  // namespace keymgr::store
