// Accounting: per-hour requests, gateway usage, receivers charged the usage
// under the keys they fetched, filters, batches, and the read-only reader.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>
#include <vector>

#include "store/accounts_reader.h"
#include "store/key_store.h"
#include "test_util.h"

namespace keymgr::store {
namespace {

constexpr std::uint64_t H = 1'700'000'000'000ull / kHourMs * kHourMs;  // an hour boundary
constexpr std::uint64_t kMin = 60'000;

class Accounts : public ::testing::Test {
 protected:
  void SetUp() override {
    store_.emplace(test::open_store(dir_));
    for (std::uint32_t ch : {1u, 2u}) {
      for (std::uint32_t id : {1u, 2u}) ASSERT_TRUE(store_->put_key(test::make_key(ch, id)).ok());
    }
    // Hour H: gw1 sends under 1/1; rx1 and gw1 itself fetched 1/1.
    ASSERT_TRUE(store_->record_fetch("rx1", 1, 1, H + 1 * kMin).ok());
    ASSERT_TRUE(store_->record_fetch("rx1", 1, 1, H + 2 * kMin).ok());  // same key again: one fetch
    ASSERT_TRUE(store_->record_fetch("gw1", 1, 1, H + 1 * kMin).ok());
    ASSERT_TRUE(store_->add_requests("rx1", 1, H + 1 * kMin).ok());
    ASSERT_TRUE(store_->add_requests("rx1", 1, H + 2 * kMin, 2).ok());
    ASSERT_TRUE(store_->add_usage("gw1", 1, 1, 10, 1000, H + 5 * kMin).ok());
    ASSERT_TRUE(store_->add_usage("gw1", 1, 1, 5, 500, H + 59 * kMin).ok());
    // Hour H+1: usage under 1/1 still (charged to rx1 in H+1) and under 1/2,
    // fetched by rx2 only; channel 2 usage nobody fetched.
    ASSERT_TRUE(store_->record_fetch("rx2", 1, 2, H + kHourMs).ok());
    ASSERT_TRUE(store_->add_usage("gw1", 1, 1, 1, 100, H + kHourMs + kMin).ok());
    ASSERT_TRUE(store_->add_usage("gw1", 1, 2, 2, 200, H + kHourMs + 2 * kMin).ok());
    ASSERT_TRUE(store_->add_usage("gw1", 2, 1, 3, 300, H + kHourMs + 3 * kMin).ok());
    ASSERT_TRUE(store_->add_requests("rx2", 1, H + kHourMs).ok());
  }

  std::vector<AccountRow> list(const AccountFilter& f) {
    auto rows = store_->accounts(f);
    EXPECT_TRUE(rows.ok()) << rows.message();
    return rows.ok() ? *rows : std::vector<AccountRow>{};
  }

  test::TempDir dir_;
  std::optional<KeyStore> store_;
};

void expect_row(const AccountRow& r, std::uint64_t hour, const char* peer, std::uint32_t channel,
                std::uint64_t requests, std::uint64_t packets, std::uint64_t bytes) {
  EXPECT_EQ(static_cast<std::uint64_t>(r.hour_ms), hour);
  EXPECT_EQ(r.peer_id, peer);
  EXPECT_EQ(r.channel_id, channel);
  EXPECT_EQ(r.requests, requests) << peer;
  EXPECT_EQ(r.packets, packets) << peer;
  EXPECT_EQ(r.bytes, bytes) << peer;
}

TEST_F(Accounts, GatewayUsageAndReceiverCharges) {
  auto rows = list({});
  ASSERT_EQ(rows.size(), 6u);
  expect_row(rows[0], H, "gw1", 1, 0, 15, 1500);  // not charged again for its own fetch
  expect_row(rows[1], H, "rx1", 1, 3, 15, 1500);
  expect_row(rows[2], H + kHourMs, "gw1", 1, 0, 3, 300);
  expect_row(rows[3], H + kHourMs, "gw1", 2, 0, 3, 300);
  expect_row(rows[4], H + kHourMs, "rx1", 1, 0, 1, 100);
  expect_row(rows[5], H + kHourMs, "rx2", 1, 1, 2, 200);
}

TEST_F(Accounts, Filters) {
  auto rx1 = list({.peer_id = "rx1"});
  ASSERT_EQ(rx1.size(), 2u);
  expect_row(rx1[0], H, "rx1", 1, 3, 15, 1500);

  auto ch2 = list({.channel_id = 2u});
  ASSERT_EQ(ch2.size(), 1u);
  expect_row(ch2[0], H + kHourMs, "gw1", 2, 0, 3, 300);

  // Hours overlapping [from, to).
  auto second_hour = list({.from_ms = H + kHourMs + 30 * kMin});
  EXPECT_EQ(second_hour.size(), 4u);
  auto first_hour = list({.to_ms = H + kHourMs});
  EXPECT_EQ(first_hour.size(), 2u);
  auto inside_first = list({.from_ms = H + 10 * kMin, .to_ms = H + 20 * kMin});
  EXPECT_EQ(inside_first.size(), 2u);
  auto both = list({.peer_id = "gw1", .channel_id = 1u, .from_ms = H + kHourMs, .to_ms = H + 2 * kHourMs});
  ASSERT_EQ(both.size(), 1u);
  expect_row(both[0], H + kHourMs, "gw1", 1, 0, 3, 300);
  EXPECT_TRUE(list({.peer_id = "nobody"}).empty());
  EXPECT_TRUE(list({.from_ms = H + 2 * kHourMs}).empty());
}

TEST_F(Accounts, BatchIsAllOrNothing) {
  const std::uint64_t t = H + 5 * kHourMs;
  std::vector<AccountingOp> ops{
      RequestsOp{"rx1", 2, 4, t},
      FetchOp{"rx1", 2, 1, t},
      UsageOp{"gw1", 2, 1, 7, 700, t},
  };
  ASSERT_TRUE(store_->apply(ops).ok());
  auto rows = list({.from_ms = t});
  ASSERT_EQ(rows.size(), 2u);
  expect_row(rows[0], t, "gw1", 2, 0, 7, 700);
  expect_row(rows[1], t, "rx1", 2, 4, 7, 700);

  std::vector<AccountingOp> bad{RequestsOp{"rx1", 2, 1, t + kHourMs}, UsageOp{"", 2, 1, 1, 1, t + kHourMs}};
  EXPECT_EQ(store_->apply(bad).error(), StoreError::invalid);
  std::vector<AccountingOp> unknown_key{RequestsOp{"rx1", 2, 1, t + kHourMs}, FetchOp{"rx1", 2, 99, t + kHourMs}};
  auto r = store_->apply(unknown_key);
  EXPECT_EQ(r.error(), StoreError::invalid) << r.message();
  EXPECT_TRUE(list({.from_ms = t + kHourMs}).empty());
}

TEST_F(Accounts, InvalidValuesRejected) {
  EXPECT_EQ(store_->add_requests("", 1, H).error(), StoreError::invalid);
  EXPECT_EQ(store_->add_requests(std::string(65, 'p'), 1, H).error(), StoreError::invalid);
  EXPECT_EQ(store_->add_requests("rx1", 0, H).error(), StoreError::invalid);
  EXPECT_EQ(store_->add_usage("gw1", 1, 0, 1, 1, H).error(), StoreError::invalid);
  EXPECT_EQ(store_->add_usage("gw1", 1, 1, 1, ~0ull, H).error(), StoreError::invalid);
  EXPECT_EQ(store_->record_fetch("rx1", 1, 0, H).error(), StoreError::invalid);
}

TEST_F(Accounts, ReaderSeesTheSameRowsWithoutTheKek) {
  auto reader = AccountsReader::open(dir_.path());
  ASSERT_TRUE(reader.ok()) << reader.message();
  auto rows = reader->accounts({.peer_id = "rx2"});
  ASSERT_TRUE(rows.ok()) << rows.message();
  ASSERT_EQ(rows->size(), 1u);
  expect_row((*rows)[0], H + kHourMs, "rx2", 1, 1, 2, 200);
  // Writes by the server are visible to an open reader.
  ASSERT_TRUE(store_->add_requests("rx2", 1, H + kHourMs).ok());
  rows = reader->accounts({.peer_id = "rx2"});
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].requests, 2u);
}

// A master and its replica keep their own records: rx3 fetched key 1/2
// from the replica while gw1 reported its usage to the master (and rx2 got it
// from both). Listed together, rx3 is charged, rx2 once, nothing twice.
TEST_F(Accounts, MasterAndReplicaListedTogether) {
  test::TempDir replica_dir;
  {
    auto replica = KeyStore::open(replica_dir.path(), test::test_kek());
    ASSERT_TRUE(replica.ok()) << replica.message();
    ASSERT_TRUE(replica->put_key(test::make_key(1, 2)).ok());
    ASSERT_TRUE(replica->record_fetch("rx3", 1, 2, H + kHourMs).ok());
    ASSERT_TRUE(replica->record_fetch("rx2", 1, 2, H + kHourMs).ok());
    ASSERT_TRUE(replica->add_requests("rx3", 1, H + kHourMs).ok());
  }
  auto reader = AccountsReader::open(std::vector<std::string>{dir_.path(), replica_dir.path()});
  ASSERT_TRUE(reader.ok()) << reader.message();
  auto rx3 = reader->accounts({.peer_id = "rx3"});
  ASSERT_TRUE(rx3.ok()) << rx3.message();
  ASSERT_EQ(rx3->size(), 1u);
  expect_row((*rx3)[0], H + kHourMs, "rx3", 1, 1, 2, 200);
  auto rx2 = reader->accounts({.peer_id = "rx2"});
  ASSERT_TRUE(rx2.ok());
  ASSERT_EQ(rx2->size(), 1u);
  expect_row((*rx2)[0], H + kHourMs, "rx2", 1, 1, 2, 200);
  // Alone, the master does not know of rx3.
  auto master = AccountsReader::open(dir_.path());
  ASSERT_TRUE(master.ok());
  auto alone = master->accounts({.peer_id = "rx3"});
  ASSERT_TRUE(alone.ok());
  EXPECT_TRUE(alone->empty());
  EXPECT_FALSE(AccountsReader::open(std::vector<std::string>{dir_.path(), dir_.path() + "/nope"}).ok());
}

std::int64_t count(KeyStore& store, const char* sql) {
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(store.native_handle(), sql, -1, &st, nullptr), SQLITE_OK) << sql;
  EXPECT_EQ(sqlite3_step(st), SQLITE_ROW) << sql;
  const std::int64_t n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return n;
}

void exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "") << "\n" << sql;
  sqlite3_free(err);
}

// A receiver that stays on a channel fetches every key in turn: the store
// keeps one run of key ids, whatever the order the fetches came in, and
// charges exactly the keys fetched.
TEST_F(Accounts, FetchesOfConsecutiveKeysAreOneRun) {
  for (std::uint32_t id = 3; id <= 9; ++id) ASSERT_TRUE(store_->put_key(test::make_key(2, id)).ok());
  const std::uint64_t t = H + 5 * kHourMs;
  for (const std::uint32_t id : {5u, 3u, 4u, 8u, 2u, 4u, 9u}) ASSERT_TRUE(store_->record_fetch("rx4", 2, id, t).ok());
  EXPECT_EQ(count(*store_, "SELECT count(*) FROM fetch_ranges WHERE peer_id = 'rx4'"), 2);  // 2-5, 8-9
  ASSERT_TRUE(store_->record_fetch("rx4", 2, 7, t).ok());  // 7 joins 8-9
  ASSERT_TRUE(store_->record_fetch("rx4", 2, 6, t).ok());  // 6 fills the gap
  EXPECT_EQ(count(*store_, "SELECT count(*) FROM fetch_ranges WHERE peer_id = 'rx4'"), 1);
  EXPECT_EQ(count(*store_, "SELECT first_key * 100 + last_key FROM fetch_ranges WHERE peer_id = 'rx4'"), 209);

  ASSERT_TRUE(store_->record_fetch("rx5", 2, 3, t).ok());
  ASSERT_TRUE(store_->record_fetch("rx5", 2, 5, t).ok());
  for (std::uint32_t id = 1; id <= 9; ++id) ASSERT_TRUE(store_->add_usage("gw1", 2, id, 1, 1u << id, t).ok());
  auto rows = list({.from_ms = t});
  ASSERT_EQ(rows.size(), 3u);
  expect_row(rows[0], t, "gw1", 2, 0, 9, 0x3fe);
  expect_row(rows[1], t, "rx4", 2, 0, 8, 0x3fc);  // keys 2-9
  expect_row(rows[2], t, "rx5", 2, 0, 2, 0x28);   // keys 3 and 5, not 4
}

// Listed together, runs of two databases may overlap (a receiver fetched
// from both): each key is charged once.
TEST_F(Accounts, OverlappingRunsOfMasterAndReplicaChargeEachKeyOnce) {
  test::TempDir replica_dir;
  const std::uint64_t t = H + 7 * kHourMs;
  {
    auto replica = KeyStore::open(replica_dir.path(), test::test_kek());
    ASSERT_TRUE(replica.ok()) << replica.message();
    for (std::uint32_t id = 1; id <= 9; ++id) {
      ASSERT_TRUE(replica->put_key(test::make_key(2, id)).ok());
      if (id <= 8) {
        ASSERT_TRUE(replica->record_fetch("rx6", 2, id, t).ok());
      }
    }
  }
  for (std::uint32_t id = 3; id <= 9; ++id) ASSERT_TRUE(store_->put_key(test::make_key(2, id)).ok());
  for (const std::uint32_t id : {5u, 6u, 9u}) ASSERT_TRUE(store_->record_fetch("rx6", 2, id, t).ok());
  for (std::uint32_t id = 1; id <= 9; ++id) ASSERT_TRUE(store_->add_usage("gw1", 2, id, 1, 1u << id, t).ok());
  auto reader = AccountsReader::open(std::vector<std::string>{dir_.path(), replica_dir.path()});
  ASSERT_TRUE(reader.ok()) << reader.message();
  auto rows = reader->accounts({.peer_id = "rx6", .from_ms = t});
  ASSERT_TRUE(rows.ok()) << rows.message();
  ASSERT_EQ(rows->size(), 1u);
  expect_row((*rows)[0], t, "rx6", 2, 0, 9, 0x3fe);
}

// A database of schema 1 (one key_fetches row per fetched key; no
// keys_by_end, no pruned) is upgraded when the store opens it: its fetches
// become runs, the accounts unchanged.
// Until then the read-only reader refuses it and says why.
TEST_F(Accounts, SchemaOneIsUpgradedAtOpen) {
  for (std::uint32_t id = 3; id <= 6; ++id) ASSERT_TRUE(store_->put_key(test::make_key(1, id)).ok());
  const auto before = list({});
  sqlite3* db = store_->native_handle();
  exec(db, R"sql(
CREATE TABLE key_fetches(
  peer_id    TEXT    NOT NULL,
  channel_id INTEGER NOT NULL,
  key_id     INTEGER NOT NULL,
  first_ms   INTEGER NOT NULL,
  PRIMARY KEY (peer_id, channel_id, key_id),
  FOREIGN KEY (channel_id, key_id) REFERENCES keys(channel_id, key_id)
) STRICT, WITHOUT ROWID;
INSERT INTO key_fetches SELECT peer_id, channel_id, first_key, first_ms FROM fetch_ranges;
DROP TABLE fetch_ranges;
DROP INDEX keys_by_end;
DROP TABLE pruned;
INSERT INTO key_fetches VALUES ('rx7', 1, 3, 1), ('rx7', 1, 4, 2), ('rx7', 1, 6, 3), ('rx7', 2, 1, 4);
UPDATE meta SET value = 1 WHERE name = 'schema_version';
)sql");
  store_.reset();

  auto refused = AccountsReader::open(dir_.path());
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.message().find("schema_version 1"), std::string::npos) << refused.message();
  EXPECT_NE(refused.message().find("upgrades it"), std::string::npos) << refused.message();

  store_.emplace(test::open_store(dir_));
  EXPECT_EQ(store_->opened_schema(), 1);  // open_store logs the upgrade by it
  EXPECT_EQ(count(*store_, "SELECT value FROM meta WHERE name = 'schema_version'"), 2);
  EXPECT_EQ(count(*store_, "SELECT count(*) FROM sqlite_schema WHERE name = 'key_fetches'"), 0);
  EXPECT_EQ(count(*store_, "SELECT count(*) FROM sqlite_schema WHERE name IN ('keys_by_end', 'pruned')"), 2);
  EXPECT_EQ(count(*store_, "SELECT count(*) FROM fetch_ranges WHERE peer_id = 'rx7'"), 3);  // 1/3-4, 1/6, 2/1
  EXPECT_EQ(count(*store_, "SELECT min(first_ms) FROM fetch_ranges WHERE peer_id = 'rx7' AND first_key = 3"), 1);
  ASSERT_TRUE(store_->add_usage("gw1", 1, 5, 1, 50, H).ok());  // not rx7's
  ASSERT_TRUE(store_->add_usage("gw1", 1, 4, 1, 40, H).ok());
  auto rx7 = list({.peer_id = "rx7"});
  ASSERT_EQ(rx7.size(), 2u);
  expect_row(rx7[0], H, "rx7", 1, 0, 1, 40);
  expect_row(rx7[1], H + kHourMs, "rx7", 2, 0, 3, 300);
  auto rx1 = list({.peer_id = "rx1"});
  ASSERT_EQ(rx1.size(), 2u);
  EXPECT_EQ(rx1[0].bytes, before[1].bytes);
  EXPECT_TRUE(AccountsReader::open(dir_.path()).ok());
  store_.reset();
  store_.emplace(test::open_store(dir_));
  EXPECT_EQ(store_->opened_schema(), 2);
}

TEST(AccountsReaderOpen, RefusesOpenDirAndMissingDatabase) {
  test::TempDir dir;
  EXPECT_FALSE(AccountsReader::open(dir.path()).ok());
  chmod(dir.path().c_str(), 0755);
  auto r = AccountsReader::open(dir.path());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("0755"), std::string::npos) << r.message();
}

}  // namespace
}  // namespace keymgr::store
