// KeyStore::prune: keys that ended before the horizon (each channel's newest
// kept, deleted ids never taken again), hours of accounts before it, fetch
// runs below every key kept; in batches.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>

#include "store/key_store.h"
#include "test_util.h"

namespace keymgr::store {
namespace {

constexpr std::uint64_t kT0 = 1'700'000'000'000ull;  // make_key(ch, k) runs [kT0 + k*10 s, kT0 + (k+1)*10 s)
constexpr std::uint64_t kLife = 10'000;
constexpr std::uint64_t H = kT0 / kHourMs * kHourMs;

std::uint64_t end_of(std::uint32_t key_id) { return kT0 + (key_id + 1) * kLife; }

class Retention : public ::testing::Test {
 protected:
  void SetUp() override {
    store_.emplace(test::open_store(dir_));
    for (std::uint32_t id = 1; id <= 5; ++id) ASSERT_TRUE(store_->put_key(test::make_key(1, id)).ok());
    ASSERT_TRUE(store_->put_key(test::make_key(2, 1)).ok());  // ended long ago, but channel 2's newest
    ASSERT_TRUE(store_->record_fetch("rx1", 1, 1, kT0).ok());
    ASSERT_TRUE(store_->record_fetch("rx1", 1, 2, kT0).ok());
    ASSERT_TRUE(store_->record_fetch("rx2", 1, 3, kT0).ok());
    ASSERT_TRUE(store_->record_fetch("rx2", 1, 4, kT0).ok());
    ASSERT_TRUE(store_->add_usage("gw1", 1, 1, 1, 100, H - kHourMs).ok());
    ASSERT_TRUE(store_->add_usage("gw1", 1, 4, 1, 100, H).ok());
    ASSERT_TRUE(store_->add_requests("rx1", 1, H - kHourMs).ok());
    ASSERT_TRUE(store_->add_requests("rx1", 1, H).ok());
  }

  test::TempDir dir_;
  std::optional<KeyStore> store_;
};

TEST_F(Retention, DeletesWhatEndedBeforeTheHorizon) {
  const std::uint64_t horizon = end_of(2) + 1;  // keys 1 and 2 of channel 1 ended; the hour before H too
  auto p = store_->prune(horizon, 1000);
  ASSERT_TRUE(p.ok()) << p.message();
  EXPECT_EQ(p->keys, 2u);
  EXPECT_EQ(p->usage, 1u);
  EXPECT_EQ(p->requests, 1u);
  EXPECT_EQ(p->fetch_runs, 1u);  // rx1's 1-2; rx2's 3-4 stays
  EXPECT_FALSE(p->more);

  EXPECT_EQ(store_->get_key(1, 2).error(), StoreError::not_found);
  EXPECT_TRUE(store_->get_key(1, 3).ok());
  EXPECT_TRUE(store_->get_key(2, 1).ok()) << "a channel's newest key stays";
  EXPECT_EQ(*store_->max_key_id(1), 5u);
  auto rows = store_->accounts({});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 3u);  // hour H: gw1, rx1 (requests), rx2 (charged for 1/4)
  for (const AccountRow& r : *rows) EXPECT_EQ(static_cast<std::uint64_t>(r.hour_ms), H) << r.peer_id;

  // Deleted ids are never taken again, from a gateway or from the master.
  EXPECT_EQ(store_->put_key(test::make_key(1, 2)).error(), StoreError::conflict);
  EXPECT_EQ(store_->put_key(test::make_key(1, 1, 16, 7)).error(), StoreError::conflict);
  EXPECT_TRUE(store_->put_key(test::make_key(1, 6)).ok());
  const std::uint64_t v = *store_->current_version();
  KeyRow old;
  old.key = test::make_key(1, 2);
  old.version = v + 5;
  ASSERT_TRUE(store_->apply_replicated(old).ok());
  EXPECT_EQ(*store_->current_version(), v + 5);
  EXPECT_EQ(store_->get_key(1, 2).error(), StoreError::not_found);

  auto again = store_->prune(horizon, 1000);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->rows(), 0u);
}

// Ids below the mark that are still stored (their key had not ended when the
// keys around it went) keep taking replicated changes.
TEST_F(Retention, AKeyStillStoredBelowTheMarkStillTakesItsExpiry) {
  char* err = nullptr;
  ASSERT_EQ(sqlite3_exec(store_->native_handle(), "INSERT INTO pruned VALUES (1, 4)", nullptr, nullptr, &err),
            SQLITE_OK);
  EXPECT_TRUE(store_->put_key(test::make_key(1, 2)).ok()) << "a retried put of a stored key";
  KeyRow expiry;
  expiry.key = test::make_key(1, 2);
  expiry.expired = true;
  expiry.version = *store_->current_version() + 1;
  ASSERT_TRUE(store_->apply_replicated(expiry).ok());
  auto row = store_->get_key(1, 2);
  ASSERT_TRUE(row.ok()) << row.message();
  EXPECT_TRUE(row->expired);
}

TEST_F(Retention, WorksInBatches) {
  const std::uint64_t horizon = end_of(5) + 1;  // all ended; channel 1 keeps key 5
  std::size_t keys = 0, batches = 0;
  for (bool more = true; more; ++batches) {
    auto p = store_->prune(horizon, 2);
    ASSERT_TRUE(p.ok()) << p.message();
    keys += p->keys;
    more = p->more;
    ASSERT_LT(batches, 10u);
  }
  EXPECT_EQ(keys, 4u);
  EXPECT_EQ(batches, 3u);  // 2, 2, then a batch that finds nothing more
  auto kept = store_->keys_of_channel(1);
  ASSERT_TRUE(kept.ok());
  ASSERT_EQ(kept->size(), 1u);
  EXPECT_EQ(kept->front().key.key_id, 5u);
}

TEST_F(Retention, RefusesAHorizonOutOfRange) {
  EXPECT_EQ(store_->prune(~0ull, 10).error(), StoreError::invalid);
  EXPECT_EQ(store_->prune(kT0, 0).error(), StoreError::invalid);
}

}  // namespace
}  // namespace keymgr::store
