// KeyStore key operations: open checks, put/get, idempotence and conflicts,
// versions, expiry, changes_since pagination, persistence, replication.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <optional>
#include <vector>

#include "store/key_store.h"
#include "test_util.h"

namespace keymgr::store {
namespace {

KeyStore open_ok(const std::string& dir, const Kek& kek) {
  auto s = KeyStore::open(dir, kek);
  if (!s.ok()) throw std::runtime_error(s.message());
  return std::move(*s);
}

bool same_stored(const StoredKey& a, const StoredKey& b) {
  return a.channel_id == b.channel_id && a.key_id == b.key_id && a.suite == b.suite &&
         a.key_length == b.key_length && a.lifetime_ms == b.lifetime_ms &&
         a.not_before_ms == b.not_before_ms && a.created_ms == b.created_ms &&
         a.material == b.material;
}

TEST(KeyStoreOpen, StateDirOpenToOthersRefusedWithPathAndMode) {
  test::TempDir dir;
  chmod(dir.path().c_str(), 0755);
  auto s = KeyStore::open(dir.path(), test::test_kek());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(), StoreError::refused);
  EXPECT_NE(s.message().find(dir.path()), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("0755"), std::string::npos) << s.message();
  chmod(dir.path().c_str(), 0750);
  EXPECT_FALSE(KeyStore::open(dir.path(), test::test_kek()).ok());
}

TEST(KeyStoreOpen, NotADirectoryRefused) {
  test::TempDir dir;
  std::ofstream(dir.file("f")) << "x";
  auto s = KeyStore::open(dir.file("f"), test::test_kek());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("not a directory"), std::string::npos) << s.message();
  EXPECT_FALSE(KeyStore::open(dir.file("missing"), test::test_kek()).ok());
}

TEST(KeyStoreOpen, DatabaseFilesAreOwnerOnly) {
  test::TempDir dir;
  {
    auto s = open_ok(dir.path(), test::test_kek());
    ASSERT_TRUE(s.put_key(test::make_key(1, 1)).ok());
    for (const char* f : {"keys.db", "keys.db-wal", "keys.db-shm"}) {
      struct stat st {};
      ASSERT_EQ(stat(dir.file(f).c_str(), &st), 0) << f;
      EXPECT_EQ(st.st_mode & 0777, 0600u) << f;
    }
  }
}

TEST(KeyStoreOpen, WrongKekRefused) {
  test::TempDir dir;
  { auto s = open_ok(dir.path(), test::test_kek(1)); }
  auto s = KeyStore::open(dir.path(), test::test_kek(2));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(), StoreError::refused);
  EXPECT_NE(s.message().find("KEK"), std::string::npos) << s.message();
}

class KeyStoreTest : public ::testing::Test {
 protected:
  test::TempDir dir_;
  Kek kek_ = test::test_kek();
  KeyStore store_ = open_ok(dir_.path(), kek_);
};

TEST_F(KeyStoreTest, PutThenGet) {
  const StoredKey k = test::make_key(3, 1, 32);
  auto v = store_.put_key(k);
  ASSERT_TRUE(v.ok()) << v.message();
  EXPECT_EQ(*v, 1u);
  auto got = store_.get_key(3, 1);
  ASSERT_TRUE(got.ok()) << got.message();
  EXPECT_TRUE(same_stored(got->key, k));
  EXPECT_EQ(got->version, 1u);
  EXPECT_FALSE(got->expired);
  EXPECT_EQ(store_.get_key(3, 2).error(), StoreError::not_found);
  EXPECT_EQ(store_.get_key(4, 1).error(), StoreError::not_found);
}

TEST_F(KeyStoreTest, MaterialIsNotStoredInTheClear) {
  const StoredKey k = test::make_key(3, 1, 64);
  ASSERT_TRUE(store_.put_key(k).ok());
  std::ifstream db(dir_.file("keys.db-wal"), std::ios::binary);
  const std::string wal((std::istreambuf_iterator<char>(db)), std::istreambuf_iterator<char>());
  const std::string clear(reinterpret_cast<const char*>(k.material.bytes.data()), 64);
  EXPECT_TRUE(wal.find(clear.substr(0, 16)) == std::string::npos);
}

TEST_F(KeyStoreTest, SamePutIsIdempotent) {
  const StoredKey k = test::make_key(1, 5);
  auto v1 = store_.put_key(k);
  ASSERT_TRUE(v1.ok());
  StoredKey retry = k;
  retry.created_ms += 5000;  // a retry later: bookkeeping differs, key is the same
  retry.not_before_ms = 0;
  auto v2 = store_.put_key(retry);
  ASSERT_TRUE(v2.ok()) << v2.message();
  EXPECT_EQ(*v1, *v2);
  EXPECT_EQ(*store_.current_version(), 1u);
  auto got = store_.get_key(1, 5);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->key.created_ms, k.created_ms);
}

TEST_F(KeyStoreTest, DifferentContentConflicts) {
  ASSERT_TRUE(store_.put_key(test::make_key(1, 5)).ok());
  auto other_material = store_.put_key(test::make_key(1, 5, 16, 9));
  EXPECT_EQ(other_material.error(), StoreError::conflict);
  StoredKey other_lifetime = test::make_key(1, 5);
  other_lifetime.lifetime_ms = 1;
  EXPECT_EQ(store_.put_key(other_lifetime).error(), StoreError::conflict);
  StoredKey other_suite = test::make_key(1, 5);
  other_suite.suite = 2;
  EXPECT_EQ(store_.put_key(other_suite).error(), StoreError::conflict);
  EXPECT_EQ(store_.put_key(test::make_key(1, 5, 32)).error(), StoreError::conflict);
  EXPECT_EQ(*store_.current_version(), 1u);
  auto got = store_.get_key(1, 5);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(same_stored(got->key, test::make_key(1, 5)));
}

TEST_F(KeyStoreTest, InvalidKeysRejected) {
  EXPECT_EQ(store_.put_key(test::make_key(0, 1)).error(), StoreError::invalid);
  EXPECT_EQ(store_.put_key(test::make_key(1, 0)).error(), StoreError::invalid);
  StoredKey k = test::make_key(1, 1);
  k.key_length = 17;
  EXPECT_EQ(store_.put_key(k).error(), StoreError::invalid);
  StoredKey empty = test::make_key(1, 1, 0);
  EXPECT_EQ(store_.put_key(empty).error(), StoreError::invalid);
  EXPECT_EQ(*store_.current_version(), 0u);
}

TEST_F(KeyStoreTest, VersionsStrictlyIncreaseIncludingExpiry) {
  std::uint64_t last = 0;
  for (std::uint32_t id = 1; id <= 5; ++id) {
    auto v = store_.put_key(test::make_key(2, id));
    ASSERT_TRUE(v.ok());
    EXPECT_GT(*v, last);
    last = *v;
    if (id >= 3) {
      auto e = store_.expire_key(2, id - 2);
      ASSERT_TRUE(e.ok()) << e.message();
      EXPECT_GT(*e, last);
      last = *e;
    }
  }
  EXPECT_EQ(*store_.current_version(), last);
  EXPECT_EQ(last, 8u);
}

TEST_F(KeyStoreTest, ExpiryWipesAndIsIdempotent) {
  ASSERT_TRUE(store_.put_key(test::make_key(2, 1)).ok());
  ASSERT_TRUE(store_.put_key(test::make_key(2, 2)).ok());
  auto v = store_.expire_key(2, 1);
  ASSERT_TRUE(v.ok());
  auto again = store_.expire_key(2, 1);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*v, *again);
  EXPECT_EQ(store_.expire_key(2, 9).error(), StoreError::not_found);

  auto got = store_.get_key(2, 1);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->expired);
  EXPECT_EQ(got->key.material.len, 0);
  EXPECT_EQ(got->version, *v);

  auto live = store_.keys_of_channel(2);
  ASSERT_TRUE(live.ok());
  ASSERT_EQ(live->size(), 1u);
  EXPECT_EQ((*live)[0].key.key_id, 2u);
  // An expired key cannot be put back.
  EXPECT_EQ(store_.put_key(test::make_key(2, 1)).error(), StoreError::conflict);
  EXPECT_EQ(*store_.max_key_id(2), 2u);
}

TEST_F(KeyStoreTest, KeysOfChannelAndMaxKeyId) {
  EXPECT_EQ(*store_.max_key_id(1), 0u);
  for (std::uint32_t id : {3u, 1u, 2u}) ASSERT_TRUE(store_.put_key(test::make_key(1, id)).ok());
  ASSERT_TRUE(store_.put_key(test::make_key(9, 7)).ok());
  auto keys = store_.keys_of_channel(1);
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 3u);
  for (std::uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*keys)[i].key.key_id, i + 1);
    EXPECT_TRUE((*keys)[i].key.material == test::material_for(1, i + 1, 16));
  }
  ASSERT_TRUE(store_.expire_key(1, 3).ok());
  EXPECT_EQ(*store_.max_key_id(1), 3u);
  EXPECT_EQ(*store_.max_key_id(9), 7u);
  EXPECT_TRUE(store_.keys_of_channel(5)->empty());
}

TEST_F(KeyStoreTest, ChangesSincePaginates) {
  for (std::uint32_t id = 1; id <= 10; ++id) ASSERT_TRUE(store_.put_key(test::make_key(1, id)).ok());
  ASSERT_TRUE(store_.expire_key(1, 2).ok());  // key 2 moves to version 11
  std::vector<KeyRow> all;
  std::uint64_t since = 0;
  for (;;) {
    auto page = store_.changes_since(since, 3);
    ASSERT_TRUE(page.ok()) << page.message();
    if (page->empty()) break;
    EXPECT_LE(page->size(), 3u);
    for (auto& r : *page) {
      EXPECT_GT(r.version, since);
      since = r.version;
      all.push_back(r);
    }
  }
  ASSERT_EQ(all.size(), 10u);
  EXPECT_EQ(all.back().key.key_id, 2u);
  EXPECT_TRUE(all.back().expired);
  EXPECT_EQ(all.back().version, 11u);
  EXPECT_EQ(all.front().key.key_id, 1u);
  EXPECT_TRUE(all.front().key.material == test::material_for(1, 1, 16));
  EXPECT_TRUE(store_.changes_since(11, 100)->empty());
  EXPECT_EQ(store_.changes_since(9, 100)->size(), 2u);  // key 10, expired key 2
}

TEST(KeyStorePersistence, SameKeysAfterReopen) {
  test::TempDir dir;
  std::vector<StoredKey> keys;
  for (std::uint32_t id = 1; id <= 20; ++id) {
    keys.push_back(test::make_key(1 + id % 3, id, static_cast<std::uint16_t>(id * 7 % 1024 + 1)));
  }
  {
    auto s = open_ok(dir.path(), test::test_kek());
    for (auto& k : keys) ASSERT_TRUE(s.put_key(k).ok());
    ASSERT_TRUE(s.expire_key(keys[0].channel_id, keys[0].key_id).ok());
  }
  auto s = open_ok(dir.path(), test::test_kek());
  EXPECT_EQ(*s.current_version(), 21u);
  for (std::size_t i = 1; i < keys.size(); ++i) {
    auto got = s.get_key(keys[i].channel_id, keys[i].key_id);
    ASSERT_TRUE(got.ok()) << got.message();
    EXPECT_TRUE(same_stored(got->key, keys[i])) << "key " << keys[i].key_id;
  }
  EXPECT_TRUE(s.get_key(keys[0].channel_id, keys[0].key_id)->expired);
  auto v = s.put_key(test::make_key(1, 100));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 22u);
}

TEST(KeyStoreReplication, ReplicaCatchesUpWithMastersVersions) {
  test::TempDir mdir, rdir;
  auto master = open_ok(mdir.path(), test::test_kek(1));
  auto replica = open_ok(rdir.path(), test::test_kek(2));  // each site its own KEK
  auto sync = [&] {
    auto from = replica.current_version();
    ASSERT_TRUE(from.ok());
    auto rows = master.changes_since(*from, 2);
    ASSERT_TRUE(rows.ok());
    while (!rows->empty()) {
      for (auto& r : *rows) ASSERT_TRUE(replica.apply_replicated(r).ok());
      rows = master.changes_since(*replica.current_version(), 2);
      ASSERT_TRUE(rows.ok());
    }
  };
  for (std::uint32_t id = 1; id <= 5; ++id) ASSERT_TRUE(master.put_key(test::make_key(1, id)).ok());
  sync();
  ASSERT_TRUE(master.expire_key(1, 1).ok());
  ASSERT_TRUE(master.put_key(test::make_key(1, 6)).ok());
  ASSERT_TRUE(master.put_key(test::make_key(1, 7)).ok());
  ASSERT_TRUE(master.expire_key(1, 7).ok());  // inserted and expired between syncs
  sync();
  EXPECT_EQ(*replica.current_version(), *master.current_version());
  auto all = master.changes_since(0, 100);
  ASSERT_TRUE(all.ok());
  for (auto& r : *all) {
    auto got = replica.get_key(r.key.channel_id, r.key.key_id);
    ASSERT_TRUE(got.ok()) << got.message();
    EXPECT_EQ(got->version, r.version);
    EXPECT_EQ(got->expired, r.expired);
    EXPECT_TRUE(got->key.material == r.key.material);
  }
  // Replays are ignored.
  ASSERT_TRUE(replica.apply_replicated((*all)[0]).ok());
  EXPECT_EQ(*replica.current_version(), *master.current_version());
}

}  // namespace
}  // namespace keymgr::store
