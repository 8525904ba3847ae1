// Key wrapping: round trip, and refusal of tampered blobs, another key's
// label (AAD), and another KEK.
#include <gtest/gtest.h>

#include <vector>

#include "store/key_wrap.h"
#include "test_util.h"

namespace keymgr::store {
namespace {

const KeyLabel kLabel{7, 42, 3};

TEST(KeyWrap, RoundTrip) {
  const Kek kek = test::test_kek();
  for (int n : {1, 16, 32, 64, 1024}) {
    const auto len = static_cast<std::uint16_t>(n);
    const KeyMaterial m = test::material_for(7, 42, len);
    auto blob = wrap_key(kek, kLabel, m.view());
    ASSERT_TRUE(blob.ok()) << blob.message();
    EXPECT_EQ(blob->size(), len + kWrapOverhead);
    auto back = unwrap_key(kek, kLabel, *blob);
    ASSERT_TRUE(back.ok()) << back.message();
    EXPECT_TRUE(*back == m);
  }
}

TEST(KeyWrap, FreshNonceEachTime) {
  const Kek kek = test::test_kek();
  const KeyMaterial m = test::material_for(7, 42, 16);
  auto a = wrap_key(kek, kLabel, m.view());
  auto b = wrap_key(kek, kLabel, m.view());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_FALSE(*a == *b);
}

TEST(KeyWrap, EveryTamperedByteRefused) {
  const Kek kek = test::test_kek();
  const KeyMaterial m = test::material_for(7, 42, 16);
  auto blob = wrap_key(kek, kLabel, m.view());
  ASSERT_TRUE(blob.ok());
  for (std::size_t i = 0; i < blob->size(); ++i) {
    std::vector<std::uint8_t> t = *blob;
    t[i] ^= 0x01;
    auto r = unwrap_key(kek, kLabel, t);
    ASSERT_FALSE(r.ok()) << "byte " << i;
    EXPECT_EQ(r.error(), StoreError::corrupt);
  }
}

TEST(KeyWrap, TruncatedOrEmptyRefused) {
  const Kek kek = test::test_kek();
  const KeyMaterial m = test::material_for(7, 42, 16);
  auto blob = wrap_key(kek, kLabel, m.view());
  ASSERT_TRUE(blob.ok());
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, kWrapOverhead - 1, blob->size() - 1}) {
    auto r = unwrap_key(kek, kLabel, std::span(blob->data(), n));
    EXPECT_FALSE(r.ok()) << n;
  }
}

TEST(KeyWrap, OtherLabelRefused) {
  const Kek kek = test::test_kek();
  const KeyMaterial m = test::material_for(7, 42, 16);
  auto blob = wrap_key(kek, kLabel, m.view());
  ASSERT_TRUE(blob.ok());
  for (const KeyLabel& other : {KeyLabel{8, 42, 3}, KeyLabel{7, 43, 3}, KeyLabel{7, 42, 4}}) {
    auto r = unwrap_key(kek, other, *blob);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.error(), StoreError::corrupt);
  }
}

TEST(KeyWrap, OtherKekRefused) {
  const KeyMaterial m = test::material_for(7, 42, 16);
  auto blob = wrap_key(test::test_kek(1), kLabel, m.view());
  ASSERT_TRUE(blob.ok());
  EXPECT_FALSE(unwrap_key(test::test_kek(2), kLabel, *blob).ok());
}

}  // namespace
}  // namespace keymgr::store
