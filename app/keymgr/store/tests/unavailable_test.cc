// Writes that SQLite cannot make (database full, read-only) fail with
// `unavailable`, leave nothing half-written, do not stop reads, and succeed
// again once the condition clears. A full disk is simulated with
// PRAGMA max_page_count, read-only with PRAGMA query_only.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>
#include <vector>

#include "store/key_store.h"
#include "test_util.h"

namespace keymgr::store {
namespace {

void pragma(KeyStore& s, const std::string& sql) {
  ASSERT_EQ(sqlite3_exec(s.native_handle(), sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sql;
}

std::int64_t page_count(KeyStore& s) {
  std::int64_t n = 0;
  sqlite3_exec(
      s.native_handle(), "PRAGMA page_count",
      [](void* out, int, char** v, char**) {
        *static_cast<std::int64_t*>(out) = std::stoll(v[0]);
        return 0;
      },
      &n, nullptr);
  return n;
}

class Unavailable : public ::testing::Test {
 protected:
  void SetUp() override {
    store_.emplace(test::open_store(dir_));
    for (std::uint32_t id = 1; id <= 3; ++id) ASSERT_TRUE(store_->put_key(test::make_key(1, id)).ok());
  }
  void expect_reads_work() {
    auto k = store_->get_key(1, 1);
    ASSERT_TRUE(k.ok()) << k.message();
    EXPECT_TRUE(k->key.material == test::material_for(1, 1, 16));
    auto keys = store_->keys_of_channel(1);
    ASSERT_TRUE(keys.ok()) << keys.message();
    EXPECT_GE(keys->size(), 3u);
    EXPECT_TRUE(store_->accounts({}).ok());
    EXPECT_TRUE(store_->current_version().ok());
  }

  test::TempDir dir_;
  std::optional<KeyStore> store_;
};

TEST_F(Unavailable, DatabaseFull) {
  pragma(*store_, "PRAGMA max_page_count = " + std::to_string(page_count(*store_)));
  std::uint32_t id = 4;
  std::uint64_t last_version = *store_->current_version();
  Result<std::uint64_t> put = last_version;
  for (; id < 10'000; ++id) {
    put = store_->put_key(test::make_key(1, id, 1024));
    if (!put) break;
    last_version = *put;
  }
  ASSERT_FALSE(put.ok()) << "database never filled";
  EXPECT_EQ(put.error(), StoreError::unavailable) << put.message();
  const std::uint32_t failed_id = id;

  // Nothing half-written, and the version counter did not move.
  EXPECT_EQ(store_->get_key(1, failed_id).error(), StoreError::not_found);
  EXPECT_EQ(*store_->current_version(), last_version);
  expect_reads_work();

  // A batch that needs many new pages fails as a whole.
  std::vector<AccountingOp> ops;
  for (std::uint64_t h = 0; h < 2000; ++h) {
    ops.push_back(UsageOp{"gw-with-a-long-name-to-fill-pages", 1, 1, 1, 1, h * kHourMs});
  }
  auto batch = store_->apply(ops);
  EXPECT_EQ(batch.error(), StoreError::unavailable) << batch.message();
  EXPECT_TRUE(store_->accounts({})->empty());

  pragma(*store_, "PRAGMA max_page_count = 1000000");
  auto retry = store_->put_key(test::make_key(1, failed_id, 1024));
  ASSERT_TRUE(retry.ok()) << retry.message();
  EXPECT_EQ(*retry, last_version + 1);
  ASSERT_TRUE(store_->apply(ops).ok());
  EXPECT_EQ(store_->accounts({})->size(), 2000u);
}

TEST_F(Unavailable, ReadOnly) {
  pragma(*store_, "PRAGMA query_only = ON");
  const std::uint64_t version = *store_->current_version();

  auto put = store_->put_key(test::make_key(1, 4));
  EXPECT_EQ(put.error(), StoreError::unavailable) << put.message();
  EXPECT_EQ(store_->expire_key(1, 1).error(), StoreError::unavailable);
  EXPECT_EQ(store_->add_requests("rx1", 1, 1000).error(), StoreError::unavailable);
  EXPECT_EQ(store_->add_usage("gw1", 1, 1, 1, 1, 1000).error(), StoreError::unavailable);
  EXPECT_EQ(store_->record_fetch("rx1", 1, 1, 1000).error(), StoreError::unavailable);
  // A retried put of a stored key needs no write and still answers.
  EXPECT_TRUE(store_->put_key(test::make_key(1, 2)).ok());

  EXPECT_EQ(*store_->current_version(), version);
  EXPECT_EQ(store_->get_key(1, 4).error(), StoreError::not_found);
  EXPECT_FALSE(store_->get_key(1, 1)->expired);
  expect_reads_work();

  pragma(*store_, "PRAGMA query_only = OFF");
  auto v = store_->put_key(test::make_key(1, 4));
  ASSERT_TRUE(v.ok()) << v.message();
  EXPECT_EQ(*v, version + 1);
  EXPECT_TRUE(store_->add_requests("rx1", 1, 1000).ok());
}

}  // namespace
}  // namespace keymgr::store
