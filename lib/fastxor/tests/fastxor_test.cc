// Tests of lib/fastxor: every implementation against scalar, scalar against a
// naive model of the keystream, dispatch and the env override, Pattern edges.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "fastxor/fastxor.h"
#include "fastxor/impl.h"

namespace fastxor {
namespace {

using Bytes = std::vector<std::uint8_t>;

// Eight bytes a draw: drawing dominated these tests' time at one a byte.
Bytes random_bytes(std::mt19937_64& rng, std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; i += 8) {
    const std::uint64_t r = rng();
    std::memcpy(b.data() + i, &r, std::min<std::size_t>(8, n - i));
  }
  return b;
}

// A key pattern and the naive keystream model of its suite.
struct Key {
  Bytes p;
  bool inverting = false;

  std::uint8_t k(std::size_t i) const {
    const std::size_t l = p.size();
    const std::uint8_t inv = inverting && (i / l) % 2 == 1 ? 0xFF : 0x00;
    return static_cast<std::uint8_t>(p[i % l] ^ inv);
  }
  // in[i] ^ k(pos + i) for i < n, stepping through the pattern instead of
  // dividing per byte, through pointers (the sweeps below spend most of their
  // time here, also in the sanitizer build's unoptimised test code).
  Bytes xor_from(const std::uint8_t* in, std::size_t n, std::size_t pos) const {
    const std::size_t l = p.size();
    const std::uint8_t* pattern = p.data();
    std::size_t j = pos % l;
    bool inverted = inverting && (pos / l) % 2 == 1;
    Bytes out(n);
    std::uint8_t* o = out.data();
    for (std::size_t i = 0; i < n; ++i) {
      o[i] = static_cast<std::uint8_t>(in[i] ^ pattern[j] ^ (inverted ? 0xFF : 0x00));
      if (++j == l) {
        j = 0;
        inverted = inverting && !inverted;
      }
    }
    return out;
  }
  Pattern pattern() const {
    Pattern pat;
    EXPECT_TRUE(inverting ? pat.assign_inverting(p) : pat.assign(p));
    return pat;
  }
};

Key make_key(std::mt19937_64& rng, std::size_t len, bool inverting) { return Key{random_bytes(rng, len), inverting}; }

// A buffer at a chosen offset from a 64-byte boundary, with guard bytes on both
// sides so that writes outside [data(), data() + n) are caught.
class GuardedBuffer {
 public:
  static constexpr std::size_t kGuard = 128;

  GuardedBuffer(std::mt19937_64& rng, std::size_t n, std::size_t offset) : n_(n) {
    storage_ = random_bytes(rng, kGuard + 64 + n + kGuard);
    const auto base = reinterpret_cast<std::uintptr_t>(storage_.data());
    const std::size_t aligned = kGuard + ((0 - (base + kGuard)) & 63);
    begin_ = aligned + offset;
    original_ = storage_;
  }
  std::uint8_t* data() { return storage_.data() + begin_; }
  std::size_t size() const { return n_; }
  std::uint8_t original(std::size_t i) const { return original_[begin_ + i]; }
  const std::uint8_t* original() const { return original_.data() + begin_; }

  // The payload is expected[] and no byte outside it changed.
  ::testing::AssertionResult check(const Bytes& expected) const {
    const std::size_t end = begin_ + n_;
    if (std::memcmp(storage_.data(), original_.data(), begin_) == 0 &&
        (n_ == 0 || std::memcmp(storage_.data() + begin_, expected.data(), n_) == 0) &&
        std::memcmp(storage_.data() + end, original_.data() + end, storage_.size() - end) == 0) {
      return ::testing::AssertionSuccess();
    }
    for (std::size_t i = 0; i < storage_.size(); ++i) {
      const bool inside = i >= begin_ && i < begin_ + n_;
      const std::uint8_t want = inside ? expected[i - begin_] : original_[i];
      if (storage_[i] != want) {
        return ::testing::AssertionFailure()
               << (inside ? "payload" : "guard") << " byte " << static_cast<long>(i) - static_cast<long>(begin_)
               << " of " << n_ << " is " << int{storage_[i]} << ", want " << int{want};
      }
    }
    return ::testing::AssertionSuccess();
  }

 private:
  std::size_t n_;
  std::size_t begin_ = 0;
  Bytes storage_;
  Bytes original_;
};

const impl::Impl& scalar() { return impl::all()[0]; }

// Runs fn (an implementation's xor_pattern) on n bytes at buffer offset off
// from pattern position pos, and checks it against scalar and scalar against
// the model.
::testing::AssertionResult check_pattern(impl::XorPatternFn fn, std::mt19937_64& rng, const Key& key,
                                         const Pattern& pat, std::size_t n, std::size_t off, std::size_t pos) {
  GuardedBuffer a(rng, n, off);
  const Bytes model = key.xor_from(a.original(), n, pos);
  const std::size_t want_pos = (pos + n) % pat.period();

  Bytes plain(a.data(), a.data() + n);
  const std::size_t scalar_pos = scalar().xor_pattern(plain.data(), n, pat, pos);
  if (plain != model || scalar_pos != want_pos) {
    return ::testing::AssertionFailure() << "scalar differs from the model (returned pos " << scalar_pos
                                         << ", want " << want_pos << ")";
  }
  const std::size_t got_pos = fn(a.data(), n, pat, pos);
  auto r = a.check(plain);
  if (!r) return r << " (n " << n << ", offset " << off << ", pos " << pos << ", L " << key.p.size() << ")";
  if (got_pos != scalar_pos) {
    return ::testing::AssertionFailure() << "returned pos " << got_pos << ", want " << scalar_pos << " (n " << n
                                         << ", pos " << pos << ", L " << key.p.size() << ")";
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult check_keystream(impl::XorKeystreamFn fn, std::mt19937_64& rng, std::size_t n,
                                           std::size_t buf_off, std::size_t ks_off) {
  GuardedBuffer a(rng, n, buf_off);
  GuardedBuffer ks(rng, n, ks_off);
  Bytes model(n);
  for (std::size_t i = 0; i < n; ++i) model[i] = static_cast<std::uint8_t>(a.original(i) ^ ks.original(i));
  Bytes plain(a.data(), a.data() + n);
  scalar().xor_keystream(plain.data(), ks.data(), n);
  if (plain != model) return ::testing::AssertionFailure() << "scalar differs from the model, n " << n;
  fn(a.data(), ks.data(), n);
  Bytes ks_unchanged(ks.data(), ks.data() + n);
  if (auto r = ks.check(ks_unchanged); !r) return r << " (keystream buffer written)";
  for (std::size_t i = 0; i < n; ++i) {
    if (ks_unchanged[i] != ks.original(i)) return ::testing::AssertionFailure() << "keystream byte " << i << " changed";
  }
  return a.check(plain) << " (n " << n << ", buf offset " << buf_off << ", ks offset " << ks_off << ")";
}

// Pattern lengths: all of 1..70 and a spread above.
std::vector<std::size_t> pattern_lengths(std::size_t max) {
  std::vector<std::size_t> v;
  for (std::size_t l = 1; l <= 70; ++l) v.push_back(l);
  for (std::size_t l : {85, 96, 127, 128, 129, 200, 255, 256, 257, 300, 384, 500, 511, 512, 513, 640, 777, 1000, 1023,
                        1024}) {
    if (l <= max) v.push_back(l);
  }
  return v;
}

const std::size_t kSpreadLengths[] = {0,   1,   2,   3,   7,   8,   15,  16,  17,  31,   32,   33,   63,  64,
                                      65,  100, 127, 128, 129, 188, 255, 256, 257, 300, 383,  384,  511, 512,
                                      513, 767, 1023, 1024, 1025, 1316, 1500, 2047, 2100};

class ImplTest : public ::testing::TestWithParam<const impl::Impl*> {
 protected:
  void SetUp() override {
    if (!GetParam()->supported()) GTEST_SKIP() << "this CPU lacks " << GetParam()->name;
  }
  const impl::Impl& im() const { return *GetParam(); }
  std::mt19937_64 rng_{20240611};
};

// Every length 0..2100 for a few patterns, offsets and positions varying with n.
TEST_P(ImplTest, PatternAllLengths) {
  const std::pair<std::size_t, bool> keys[] = {{1, false},  {3, false},  {16, false},  {64, false},  {100, false},
                                               {256, false}, {257, false}, {1024, false}, {1, true},   {5, true},
                                               {16, true},  {100, true}, {512, true}};
  for (auto [len, inv] : keys) {
    const Key key = make_key(rng_, len, inv);
    const Pattern pat = key.pattern();
    for (std::size_t n = 0; n <= 2100; ++n) {
      const std::size_t off = (n * 13 + len) % 64;
      const std::size_t pos = (n * 31 + len) % pat.period();
      ASSERT_TRUE(check_pattern(im().xor_pattern, rng_, key, pat, n, off, pos));
      ASSERT_TRUE(check_pattern(im().xor_pattern, rng_, key, pat, n, 63 - off, pat.period() - 1 - pos % 64));
    }
  }
}

// Every pattern length, a spread of lengths, every buffer offset 0..63.
TEST_P(ImplTest, PatternAllPatternLengths) {
  for (bool inv : {false, true}) {
    for (std::size_t len : pattern_lengths(inv ? kMaxInvertingPatternLen : kMaxPatternLen)) {
      const Key key = make_key(rng_, len, inv);
      const Pattern pat = key.pattern();
      const std::size_t period = pat.period();
      for (std::size_t n : kSpreadLengths) {
        for (std::size_t off = 0; off < 64; ++off) {
          const std::size_t positions[] = {0, period - 1, len - 1, (off * 97 + n) % period};
          ASSERT_TRUE(check_pattern(im().xor_pattern, rng_, key, pat, n, off, positions[off % 4]));
        }
      }
    }
  }
}

// A datagram XORed in pieces, continuing with the returned position, equals
// the model over the whole.
TEST_P(ImplTest, PatternContinuesAcrossPieces) {
  for (bool inv : {false, true}) {
    for (std::size_t len : {1, 7, 16, 64, 129, 300, 512}) {
      const Key key = make_key(rng_, len, inv);
      const Pattern pat = key.pattern();
      for (int round = 0; round < 200; ++round) {
        const std::size_t total = rng_() % 3000;
        const std::size_t start = rng_() % pat.period();
        GuardedBuffer a(rng_, total, rng_() % 64);
        std::size_t pos = start;
        for (std::size_t done = 0; done < total;) {
          const std::size_t piece = std::min<std::size_t>(total - done, rng_() % 600);
          pos = im().xor_pattern(a.data() + done, piece, pat, pos);
          ASSERT_LT(pos, pat.period());
          done += piece;
        }
        const Bytes model = key.xor_from(a.original(), total, start);
        ASSERT_TRUE(a.check(model)) << "L " << len << (inv ? " inverting" : "");
        ASSERT_EQ(pos, (start + total) % pat.period());
      }
    }
  }
}

TEST_P(ImplTest, KeystreamAllLengths) {
  for (std::size_t n = 0; n <= 2100; ++n) {
    ASSERT_TRUE(check_keystream(im().xor_keystream, rng_, n, (n * 13) % 64, (n * 29 + 5) % 64));
  }
  for (std::size_t n : kSpreadLengths) {
    for (std::size_t off = 0; off < 64; ++off) {
      ASSERT_TRUE(check_keystream(im().xor_keystream, rng_, n, off, (off * 7) % 64));
    }
  }
}

TEST_P(ImplTest, KeystreamInPlaceZeroes) {
  for (std::size_t n : kSpreadLengths) {
    for (std::size_t off : {0, 1, 31, 63}) {
      GuardedBuffer a(rng_, n, off);
      im().xor_keystream(a.data(), a.data(), n);
      ASSERT_TRUE(a.check(Bytes(n, 0)));
    }
  }
}

TEST_P(ImplTest, ZeroLengthTouchesNothing) {
  const Key key = make_key(rng_, 16, false);
  const Pattern pat = key.pattern();
  EXPECT_EQ(im().xor_pattern(nullptr, 0, pat, 5), 5U);
  im().xor_keystream(nullptr, nullptr, 0);
}

std::vector<const impl::Impl*> all_impls() {
  std::vector<const impl::Impl*> v;
  for (const impl::Impl& i : impl::all()) v.push_back(&i);
  return v;
}

INSTANTIATE_TEST_SUITE_P(Fastxor, ImplTest, ::testing::ValuesIn(all_impls()),
                         [](const ::testing::TestParamInfo<const impl::Impl*>& param_info) {
                           return std::string(param_info.param->name);
                         });

TEST(Impls, TableInOrder) {
  const auto all = impl::all();
  ASSERT_EQ(all.size(), 3U);
  EXPECT_STREQ(all[0].name, "scalar");
  EXPECT_STREQ(all[1].name, "avx2");
  EXPECT_STREQ(all[2].name, "avx512");
  EXPECT_TRUE(all[0].supported());
}

// The dispatched symbols: positions at or past the period are reduced.
TEST(Dispatch, XorPatternReducesPosition) {
  std::mt19937_64 rng(7);
  for (bool inv : {false, true}) {
    for (std::size_t len : {1, 3, 16, 300, 512}) {
      const Key key = make_key(rng, len, inv);
      const Pattern pat = key.pattern();
      const std::size_t period = pat.period();
      for (std::size_t pos : {period, period + 1, 3 * period + 17, std::size_t{1} << 40, SIZE_MAX}) {
        for (std::size_t n : {0, 5, 200, 1316}) {
          GuardedBuffer a(rng, n, 2);
          const std::size_t got = xor_pattern(a.data(), n, pat, pos);
          const Bytes model = key.xor_from(a.original(), n, pos % period);
          ASSERT_TRUE(a.check(model)) << "pos " << pos;
          EXPECT_EQ(got, (pos % period + n) % period);
        }
      }
      EXPECT_EQ(pat.position(std::uint64_t{1} << 50), static_cast<std::size_t>((std::uint64_t{1} << 50) % period));
    }
  }
}

TEST(Dispatch, XorKeystream) {
  std::mt19937_64 rng(8);
  for (std::size_t n : kSpreadLengths) ASSERT_TRUE(check_keystream(xor_keystream, rng, n, 18, 3));
  xor_keystream(nullptr, nullptr, 0);
  GuardedBuffer a(rng, 100, 1);
  xor_keystream(a.data(), a.data(), 100);
  EXPECT_TRUE(a.check(Bytes(100, 0)));
}

TEST(Dispatch, ImplNameIsTheBestSupportedOrForced) {
  const char* forced = std::getenv("FASTXOR_IMPL");
  if (forced == nullptr || *forced == '\0') {
    EXPECT_STREQ(impl_name(), impl::select(nullptr).name);
  }
  bool known = false;
  for (const impl::Impl& i : impl::all()) known = known || std::strcmp(i.name, impl_name()) == 0;
  EXPECT_TRUE(known) << impl_name();
}

const impl::Impl& best() {
  const impl::Impl* b = &scalar();
  for (const impl::Impl& i : impl::all()) {
    if (i.supported()) b = &i;
  }
  return *b;
}

TEST(Select, NoneMeansBest) {
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(&impl::select(nullptr), &best());
  EXPECT_EQ(&impl::select(""), &best());
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

TEST(Select, ForcedSupported) {
  for (const impl::Impl& i : impl::all()) {
    if (!i.supported()) continue;
    ::testing::internal::CaptureStderr();
    EXPECT_EQ(&impl::select(i.name), &i);
    EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  }
}

TEST(Select, ForcedUnsupportedWarnsOnceAndUsesBest) {
  bool any = false;
  for (const impl::Impl& i : impl::all()) {
    if (i.supported()) continue;
    any = true;
    ::testing::internal::CaptureStderr();
    EXPECT_EQ(&impl::select(i.name), &best());
    const std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(err.find("not supported"), std::string::npos) << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  }
  if (!any) GTEST_SKIP() << "this CPU supports every implementation";
}

TEST(Select, UnknownWarnsOnceAndUsesBest) {
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(&impl::select("sse9"), &best());
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("unknown"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
}

// End to end in a fresh process (the choice is made once per process).
TEST(SelectDeathTest, EnvOverrideIsHonoured) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        setenv("FASTXOR_IMPL", "scalar", 1);
        std::_Exit(std::strcmp(impl_name(), "scalar") == 0 ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "^$");
  EXPECT_EXIT(
      {
        setenv("FASTXOR_IMPL", "bogus", 1);
        std::uint8_t b[4] = {};
        xor_keystream(b, b, 4);
        std::_Exit(std::strcmp(impl_name(), best().name) == 0 ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "FASTXOR_IMPL=bogus is unknown");
}

TEST(Pattern, RejectsBadLengthsAndIsLeftEmptyAndWiped) {
  std::mt19937_64 rng(9);
  const Bytes p1025 = random_bytes(rng, 1025);
  const Bytes p513 = random_bytes(rng, 513);
  auto wiped = [](const Pattern& p) {
    for (std::size_t j = 0; j < Pattern::kMaxPeriod + Pattern::kOverhang; ++j) {
      if (p.bytes()[j] != 0) return false;
    }
    return p.empty() && p.period() == 0 && p.length() == 0;
  };
  Pattern p;
  EXPECT_TRUE(p.empty());
  ASSERT_TRUE(p.assign(std::span(p1025).first(1024)));
  EXPECT_FALSE(p.assign(p1025));
  EXPECT_TRUE(wiped(p));
  ASSERT_TRUE(p.assign(std::span(p1025).first(16)));
  EXPECT_FALSE(p.assign({}));
  EXPECT_TRUE(wiped(p));
  ASSERT_TRUE(p.assign_inverting(std::span(p513).first(512)));
  EXPECT_FALSE(p.assign_inverting(p513));
  EXPECT_TRUE(wiped(p));
  ASSERT_TRUE(p.assign_inverting(std::span(p513).first(1)));
  EXPECT_FALSE(p.assign_inverting({}));
  EXPECT_TRUE(wiped(p));
}

TEST(Pattern, WipeZeroes) {
  std::mt19937_64 rng(10);
  const Bytes key = random_bytes(rng, 1024);
  Pattern p;
  ASSERT_TRUE(p.assign(key));
  p.wipe();
  EXPECT_TRUE(p.empty());
  for (std::size_t j = 0; j < Pattern::kMaxPeriod + Pattern::kOverhang; ++j) ASSERT_EQ(p.bytes()[j], 0) << j;
}

TEST(Pattern, ExpandsToPeriodPlusOverhangAndClearsTheRest) {
  std::mt19937_64 rng(11);
  struct Case {
    std::size_t len;
    bool inv;
    std::size_t length;
    std::size_t period;
  };
  const Case cases[] = {{1, false, 1, 256},     {3, false, 3, 258},     {100, false, 100, 300}, {255, false, 255, 510},
                        {256, false, 256, 256}, {257, false, 257, 257}, {1024, false, 1024, 1024},
                        {1, true, 2, 256},      {100, true, 200, 400},  {128, true, 256, 256},  {512, true, 1024, 1024}};
  Pattern p;
  ASSERT_TRUE(p.assign(random_bytes(rng, 1024)));  // leaves bytes the shorter keys must clear
  for (const Case& c : cases) {
    const Key key = make_key(rng, c.len, c.inv);
    ASSERT_TRUE(c.inv ? p.assign_inverting(key.p) : p.assign(key.p));
    EXPECT_FALSE(p.empty());
    EXPECT_EQ(p.length(), c.length);
    EXPECT_EQ(p.period(), c.period);
    const std::size_t end = p.period() + Pattern::kOverhang;
    for (std::size_t j = 0; j < end; ++j) ASSERT_EQ(p.bytes()[j], key.k(j)) << "L " << c.len << " j " << j;
    for (std::size_t j = end; j < Pattern::kMaxPeriod + Pattern::kOverhang; ++j) ASSERT_EQ(p.bytes()[j], 0) << j;
  }
}

TEST(Pattern, AssignFromItsOwnBytes) {
  std::mt19937_64 rng(12);
  const Key key = make_key(rng, 40, false);
  Pattern p = key.pattern();
  const Bytes sub(p.bytes() + 3, p.bytes() + 13);
  ASSERT_TRUE(p.assign(std::span(p.bytes() + 3, 10)));
  for (std::size_t j = 0; j < p.period() + Pattern::kOverhang; ++j) ASSERT_EQ(p.bytes()[j], sub[j % 10]);
  ASSERT_TRUE(p.assign_inverting(std::span(p.bytes() + 1, 5)));
  const Key inv{Bytes(sub.begin() + 1, sub.begin() + 6), true};
  for (std::size_t j = 0; j < p.period() + Pattern::kOverhang; ++j) ASSERT_EQ(p.bytes()[j], inv.k(j));
}

TEST(Pattern, CopyIsIndependent) {
  std::mt19937_64 rng(13);
  const Key key = make_key(rng, 16, true);
  Pattern a = key.pattern();
  Pattern b = a;
  a.wipe();
  EXPECT_EQ(b.period(), 256U);
  for (std::size_t j = 0; j < b.period() + Pattern::kOverhang; ++j) ASSERT_EQ(b.bytes()[j], key.k(j));
}

}  // namespace
}  // namespace fastxor
