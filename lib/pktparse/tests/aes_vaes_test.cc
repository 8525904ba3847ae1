// keycast's VAES kernels against OpenSSL EVP: AES-CTR with both key sizes,
// every length to 700 bytes and some longer, counters from anywhere below a
// carry, in place and not; AES-128-GCM sealed and opened over
// every length to 700 bytes with AAD of 0 to 300 bytes. Skipped where the CPU
// lacks AVX2, VAES or VPCLMULQDQ.
#include <gtest/gtest.h>
#include <intel-ipsec-mb.h>
#include <openssl/evp.h>

#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "../src/aes_ctr_vaes.h"
#include "../src/aes_gcm_vaes.h"

namespace pktparse::detail {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes evp_ctr(const Bytes& key, const std::uint8_t counter0[16], const Bytes& in) {
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  const EVP_CIPHER* c = key.size() == 16 ? EVP_aes_128_ctr() : EVP_aes_256_ctr();
  EXPECT_EQ(EVP_EncryptInit_ex(ctx.get(), c, nullptr, key.data(), counter0), 1);
  Bytes out(in.size());
  int outl = 0;
  EXPECT_EQ(EVP_EncryptUpdate(ctx.get(), out.data(), &outl, in.data(), static_cast<int>(in.size())), 1);
  return out;
}

class AesVaes : public ::testing::Test {
 protected:
  void SetUp() override {
    mgr_ = alloc_mb_mgr(0);
    ASSERT_NE(mgr_, nullptr);
    init_mb_mgr_auto(mgr_, nullptr);  // reads the CPU's features (with the OS's support for them)
    constexpr std::uint64_t kNeeds = IMB_FEATURE_AVX2 | IMB_FEATURE_VAES | IMB_FEATURE_VPCLMULQDQ;
    if ((mgr_->features & kNeeds) != kNeeds) GTEST_SKIP() << "no AVX2 with VAES and VPCLMULQDQ on this CPU";
  }
  void TearDown() override {
    if (mgr_) free_mb_mgr(mgr_);
  }
  // Encryption round keys of `key` (ipsec-mb's expansion, as the backend uses).
  void expand(const Bytes& key, std::uint8_t enc[16 * 15]) {
    alignas(16) std::uint8_t dec[16 * 15];
    if (key.size() == 16) {
      IMB_AES_KEYEXP_128(mgr_, key.data(), enc, dec);
    } else {
      IMB_AES_KEYEXP_256(mgr_, key.data(), enc, dec);
    }
  }
  void check(std::size_t key_len) {
    std::mt19937 rng(static_cast<unsigned>(key_len));
    std::vector<std::size_t> lengths;
    for (std::size_t n = 0; n <= 700; ++n) lengths.push_back(n);
    for (const std::size_t n : {1316u, 1328u, 1500u, 4095u, 9000u, 65507u}) lengths.push_back(n);
    for (const std::size_t n : lengths) {
      Bytes key(key_len);
      for (auto& b : key) b = static_cast<std::uint8_t>(rng());
      std::uint8_t counter0[16];
      for (auto& b : counter0) b = static_cast<std::uint8_t>(rng());
      counter0[12] &= 0x7F;  // the last 4 bytes never carry (no datagram comes near 2^31 blocks)
      alignas(16) std::uint8_t enc[16 * 15];
      expand(key, enc);
      const int rounds = key_len == 16 ? 10 : 14;

      Bytes in(n);
      for (auto& b : in) b = static_cast<std::uint8_t>(rng());
      const Bytes expected = evp_ctr(key, counter0, in);
      Bytes out(n + 1, 0xA5);  // one byte past the end: left alone
      aes_ctr_vaes(enc, rounds, counter0, in.data(), out.data(), n);
      ASSERT_TRUE(std::equal(expected.begin(), expected.end(), out.begin())) << key_len << "-byte key, " << n << " bytes";
      ASSERT_EQ(out[n], 0xA5) << n;
      aes_ctr_vaes(enc, rounds, counter0, in.data(), in.data(), n);  // in place
      ASSERT_EQ(in, expected) << key_len << "-byte key, " << n << " bytes in place";
    }
  }
  IMB_MGR* mgr_ = nullptr;
};

TEST_F(AesVaes, Ctr128MatchesEvp) { check(16); }
TEST_F(AesVaes, Ctr256MatchesEvp) { check(32); }

struct Sealed {
  Bytes c;
  Bytes tag;
};

Sealed evp_gcm(const Bytes& key, const std::uint8_t iv[12], const Bytes& aad, const Bytes& p) {
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  EXPECT_EQ(EVP_EncryptInit_ex(ctx.get(), EVP_aes_128_gcm(), nullptr, key.data(), iv), 1);
  int outl = 0;
  if (!aad.empty()) {
    EXPECT_EQ(EVP_EncryptUpdate(ctx.get(), nullptr, &outl, aad.data(), static_cast<int>(aad.size())), 1);
  }
  Sealed s{Bytes(p.size()), Bytes(16)};
  EXPECT_EQ(EVP_EncryptUpdate(ctx.get(), s.c.data(), &outl, p.data(), static_cast<int>(p.size())), 1);
  std::uint8_t none[16];
  EXPECT_EQ(EVP_EncryptFinal_ex(ctx.get(), none, &outl), 1);
  EXPECT_EQ(EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, 16, s.tag.data()), 1);
  return s;
}

TEST_F(AesVaes, Gcm128MatchesEvp) {
  std::mt19937 rng(128);
  for (std::size_t n = 0; n <= 700; ++n) {
    const std::size_t aad_len = n % 301;
    Bytes key(16);
    for (auto& b : key) b = static_cast<std::uint8_t>(rng());
    std::uint8_t iv[12];
    for (auto& b : iv) b = static_cast<std::uint8_t>(rng());
    Bytes aad(aad_len);
    for (auto& b : aad) b = static_cast<std::uint8_t>(rng());
    Bytes p(n);
    for (auto& b : p) b = static_cast<std::uint8_t>(rng());
    const Sealed expected = evp_gcm(key, iv, aad, p);

    // What the GCM prepare does: ipsec-mb's round keys, then the powers of H.
    gcm_key_data gcm;
    IMB_AES128_GCM_PRE(mgr_, key.data(), &gcm);
    alignas(32) std::uint8_t powers[kGhashPowersBytes];
    ghash_vaes_prepare(gcm.expanded_keys, powers);

    Bytes c = p;
    Bytes tag(16);
    gcm_vaes_seal(gcm.expanded_keys, powers, iv, aad.data(), aad.size(), c.data(), n, tag.data());
    ASSERT_EQ(c, expected.c) << n << " bytes";
    ASSERT_EQ(tag, expected.tag) << n << " bytes, " << aad_len << " bytes of AAD";
    Bytes back_tag(16);
    gcm_vaes_open(gcm.expanded_keys, powers, iv, aad.data(), aad.size(), c.data(), n, back_tag.data());
    ASSERT_EQ(back_tag, expected.tag) << n << " bytes opened";
    ASSERT_EQ(c, p) << n << " bytes opened";
  }
}

}  // namespace
}  // namespace pktparse::detail
