// KeyStore::served_as, record_served_as and promotion: the role a store was
// served in, kept across opens, and a replica's store's promotion.
#include <gtest/gtest.h>

#include "store/key_store.h"
#include "test_util.h"

namespace keymgr::store {
namespace {

KeyStore open_ok(const std::string& dir) {
  auto s = KeyStore::open(dir, test::test_kek());
  if (!s.ok()) throw std::runtime_error(s.message());
  return std::move(*s);
}

TEST(ServedAs, UnknownUntilRecordedThenKeptAcrossOpens) {
  test::TempDir dir;
  {
    auto s = open_ok(dir.path());
    ASSERT_TRUE(s.served_as().ok());
    EXPECT_FALSE(s.served_as()->has_value());
    ASSERT_TRUE(s.record_served_as(ServedAs::replica, 1000).ok());
  }
  auto s = open_ok(dir.path());
  ASSERT_TRUE(s.served_as().ok());
  EXPECT_EQ(*s.served_as(), ServedAs::replica);
  ASSERT_TRUE(s.promotion().ok());
  EXPECT_FALSE(s.promotion()->has_value());
}

TEST(ServedAs, AReplicasStoreServedAsMasterRecordsItsPromotionAtItsVersion) {
  test::TempDir dir;
  auto s = open_ok(dir.path());
  ASSERT_TRUE(s.record_served_as(ServedAs::replica, 1000).ok());
  KeyRow row;
  row.key = test::make_key(1, 7);
  row.version = 42;
  ASSERT_TRUE(s.apply_replicated(row).ok());
  ASSERT_TRUE(s.record_served_as(ServedAs::master, 5000).ok());
  ASSERT_TRUE(s.promotion().ok());
  ASSERT_TRUE(s.promotion()->has_value());
  EXPECT_EQ((*s.promotion())->at_ms, 5000u);
  EXPECT_EQ((*s.promotion())->version, 42u);
  EXPECT_EQ(*s.served_as(), ServedAs::master);

  // Served as master again: still the same promotion.
  ASSERT_TRUE(s.put_key(test::make_key(1, 8)).ok());
  ASSERT_TRUE(s.record_served_as(ServedAs::master, 9000).ok());
  EXPECT_EQ((*s.promotion())->at_ms, 5000u);
  EXPECT_EQ((*s.promotion())->version, 42u);
}

TEST(ServedAs, AMastersStoreHasNoPromotion) {
  test::TempDir dir;
  auto s = open_ok(dir.path());
  ASSERT_TRUE(s.record_served_as(ServedAs::master, 1000).ok());
  ASSERT_TRUE(s.record_served_as(ServedAs::master, 2000).ok());
  EXPECT_FALSE(s.promotion()->has_value());
}

}  // namespace
}  // namespace keymgr::store
