// Scramble/descramble: round trips for every suite and layout, the TS and RTP
// rules of wire-format.md section 4, and every rejection; the two AES
// backends (OpenSSL EVP, intel-ipsec-mb) against each other, and the wiping
// of their key schedules.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "../src/aes.h"
#include "pktparse/scramble.h"

namespace pktparse {
namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr Suite kAllSuites[] = {Suite::xor_pattern, Suite::xor_inv, Suite::aes128_ctr, Suite::aes256_ctr,
                                Suite::aes128_gcm};

Bytes key_material(Suite s) {
  Bytes k(s == Suite::aes256_ctr ? 32 : s == Suite::xor_pattern ? 37 : s == Suite::xor_inv ? 13 : 16);
  std::iota(k.begin(), k.end(), std::uint8_t{0x31});
  return k;
}

void prepare(PreparedKey& key, Suite s, std::uint32_t key_id = 5) {
  ASSERT_EQ(key.prepare(s, key_id, key_material(s)), Status::ok);
}

Bytes ts_packet(std::uint16_t pid, std::uint8_t afc = 1, std::uint8_t af_len = 0, std::uint8_t fill = 0) {
  Bytes p(kTsPacketLen);
  std::iota(p.begin(), p.end(), fill);
  p[0] = kTsSync;
  p[1] = static_cast<std::uint8_t>(pid >> 8);
  p[2] = static_cast<std::uint8_t>(pid);
  p[3] = static_cast<std::uint8_t>(afc << 4 | 0x7);
  if (afc & 2) p[4] = af_len;
  return p;
}

Bytes rtp_header(std::uint8_t csrc = 0, bool ext = false) {
  Bytes h(kRtpFixedLen + 4u * csrc + (ext ? 8u : 0u), 0xC5);
  const std::uint8_t fixed[kRtpFixedLen] = {static_cast<std::uint8_t>(0x80 | (ext ? 0x10 : 0) | csrc), 33, 0, 7, 0, 1,
                                            0x5F, 0x90, 1, 2, 3, 4};
  std::copy(std::begin(fixed), std::end(fixed), h.begin());
  if (ext) {
    const std::uint8_t e[4] = {0xBE, 0xDE, 0x00, 0x01};  // one 32-bit word of extension follows
    std::copy(std::begin(e), std::end(e), h.end() - 8);
  }
  return h;
}

struct Scrambled {
  Status status;
  Bytes dgram;  // whole scrambled UDP payload
  KcHeader hdr;
};

// header_apart: the header is written to a buffer of its own, not in front
// of the payload, then copied there.
Scrambled do_scramble(PreparedKey& key, const ChannelRules& rules, const Bytes& clear, std::uint64_t seq = 1,
                      std::uint32_t channel = 42, bool header_apart = false) {
  KcHeader h;
  h.channel_id = channel;
  h.seq = seq;
  const std::size_t hlen = header_len(h);
  Bytes buf(hlen + clear.size() + kGcmTagLen);
  std::copy(clear.begin(), clear.end(), buf.begin() + static_cast<std::ptrdiff_t>(hlen));
  Bytes apart(hlen);
  const Status s = scramble(key, rules, h, header_apart ? apart.data() : buf.data(), buf.data() + hlen, clear.size());
  if (header_apart) std::copy(apart.begin(), apart.end(), buf.begin());
  buf.resize(hlen + clear.size() + suite_trailer_len(key.suite()));
  return {s, buf, h};
}

Status do_descramble(PreparedKey& key, Bytes dgram, Bytes& clear) {
  KcHeader h;
  if (const Status s = parse_header(dgram, h); s != Status::ok) return s;
  std::span<std::uint8_t> out;
  const Status s = descramble(key, h, dgram, out);
  clear.assign(out.begin(), out.end());
  return s;
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

class EverySuite : public ::testing::TestWithParam<Suite> {};

TEST_P(EverySuite, RoundTripsEveryLayout) {
  PreparedKey key;
  prepare(key, GetParam());
  const Bytes ts = concat({ts_packet(0x100), ts_packet(0x0), ts_packet(0x101, 3, 20), ts_packet(0x1FFF),
                           ts_packet(0x102, 2, 183), ts_packet(0x103, 3, 183), ts_packet(0x104, 1, 0, 9)});
  Bytes raw(1000);
  std::iota(raw.begin(), raw.end(), std::uint8_t{7});
  struct Layout {
    const char* name;
    bool ts, rtp;
    Bytes payload;
  };
  const Layout layouts[] = {
      {"empty", false, false, {}},
      {"one byte", false, false, {0x42}},
      {"raw", false, false, raw},
      {"ts", true, false, ts},
      {"rtp raw", false, true, concat({rtp_header(2, true), raw})},
      {"rtp ts", true, true, concat({rtp_header(), ts})},
      {"ts rules, raw payload", true, false, raw},
      {"rtp rules, not rtp", false, true, Bytes(40, 0x00)},
  };
  for (const auto& l : layouts) {
    ChannelRules rules;
    rules.ts = l.ts;
    rules.rtp = l.rtp;
    const Scrambled s = do_scramble(key, rules, l.payload);
    ASSERT_EQ(s.status, Status::ok) << l.name;
    Bytes clear;
    ASSERT_EQ(do_descramble(key, s.dgram, clear), Status::ok) << l.name;
    EXPECT_EQ(clear, l.payload) << l.name;
  }
}

// The sum the xor suites take in their one pass is the sum of the bytes that
// pass wrote, and asking for it changes no byte; where there is no one pass
// (AES, TS packets that are not all of payload only) it is not known.
TEST_P(EverySuite, PayloadSumIsTheSumOfTheBytesWritten) {
  const bool xor_suite = suite_is_xor(GetParam());
  PreparedKey key;
  prepare(key, GetParam());  // xor: 37-byte pattern, period 259: odd pieces
  Bytes ts7;
  for (int i = 0; i < 7; ++i) ts7 = concat({ts7, ts_packet(0x100, 1, 0, static_cast<std::uint8_t>(i))});
  Bytes mixed = ts7;
  mixed[3 * kTsPacketLen + 3] |= 0x20;  // one packet with an adaptation field
  mixed[3 * kTsPacketLen + 4] = 10;
  struct Layout {
    const char* name;
    bool ts, rtp;
    Bytes payload;
    bool one_pass;
  };
  std::vector<Layout> layouts = {
      {"ts, payload only", true, false, ts7, true},
      {"rtp ts, payload only", true, true, concat({rtp_header(1), ts7}), true},
      {"ts with an adaptation field", true, false, mixed, false},
  };
  for (const std::size_t n : {0u, 1u, 258u, 259u, 700u, 1316u, 1317u, 1472u, 9000u}) {
    Bytes raw(n);
    std::iota(raw.begin(), raw.end(), static_cast<std::uint8_t>(n));
    layouts.push_back({"raw", false, false, raw, true});
    layouts.push_back({"rtp raw", false, true, concat({rtp_header(0, true), raw}), true});
  }
  for (const Layout& l : layouts) {
    const std::string what = std::string(l.name) + ", " + std::to_string(l.payload.size()) + " bytes";
    ChannelRules rules;
    rules.ts = l.ts;
    rules.rtp = l.rtp;
    const Scrambled plain = do_scramble(key, rules, l.payload);
    ASSERT_EQ(plain.status, Status::ok) << what;

    KcHeader h;
    h.channel_id = 42;
    h.seq = 1;
    Bytes dgram(header_len(h) + l.payload.size() + kGcmTagLen);
    std::uint8_t* payload = dgram.data() + header_len(h);
    std::copy(l.payload.begin(), l.payload.end(), payload);
    PayloadSum sum{12345, true};
    ASSERT_EQ(scramble(key, rules, h, dgram.data(), payload, l.payload.size(), &sum), Status::ok) << what;
    dgram.resize(plain.dgram.size());
    ASSERT_EQ(dgram, plain.dgram) << what;
    ASSERT_EQ(sum.known, xor_suite && l.one_pass) << what;
    if (sum.known) {
      EXPECT_EQ(network_sum(sum), ones_sum({payload, l.payload.size()})) << what;
    }

    KcHeader parsed;
    ASSERT_EQ(parse_header(dgram, parsed), Status::ok) << what;
    std::span<std::uint8_t> clear;
    sum = {12345, true};
    ASSERT_EQ(descramble(key, parsed, dgram, clear, &sum), Status::ok) << what;
    ASSERT_EQ(Bytes(clear.begin(), clear.end()), l.payload) << what;
    ASSERT_EQ(sum.known, xor_suite && l.one_pass) << what;
    if (sum.known) {
      EXPECT_EQ(network_sum(sum), ones_sum(clear)) << what;
    }
  }
}

TEST_P(EverySuite, SeqChangesTheCiphertextOfAesSuitesOnly) {
  PreparedKey key;
  prepare(key, GetParam());
  const Bytes clear(300, 0xAB);
  const Scrambled a = do_scramble(key, {}, clear, 1);
  const Scrambled b = do_scramble(key, {}, clear, 2);
  const Bytes ra(a.dgram.begin() + 24, a.dgram.end()), rb(b.dgram.begin() + 24, b.dgram.end());
  EXPECT_NE(ra, Bytes(clear.begin(), clear.end()));
  if (suite_is_xor(GetParam())) {
    EXPECT_EQ(ra, rb);
  } else {
    EXPECT_NE(ra, rb);
  }
}

TEST_P(EverySuite, DescrambleWithAnotherSuiteKeyIsRefused) {
  PreparedKey key, other;
  prepare(key, GetParam());
  prepare(other, GetParam() == Suite::xor_pattern ? Suite::aes128_ctr : Suite::xor_pattern);
  const Scrambled s = do_scramble(key, {}, Bytes(100, 1));
  Bytes clear;
  EXPECT_EQ(do_descramble(other, s.dgram, clear), Status::key_suite_mismatch);
}

INSTANTIATE_TEST_SUITE_P(Suites, EverySuite, ::testing::ValuesIn(kAllSuites),
                         [](const ::testing::TestParamInfo<Suite>& p) {
                           std::string n(suite_name(p.param));
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

TEST(ScrambleTs, FollowsTheTsRules) {
  PreparedKey key;
  prepare(key, Suite::xor_pattern, 6);  // even key: scrambled packets get 10
  ChannelRules rules;
  rules.ts = true;
  rules.clear_pids.add(0x1000);
  const Bytes in = concat({ts_packet(0x100), ts_packet(0x10), ts_packet(0x1FFF), ts_packet(0x1000),
                           ts_packet(0x101, 2, 183), ts_packet(0x102, 3, 10), ts_packet(0x103, 3, 183)});
  const Scrambled s = do_scramble(key, rules, in);
  ASSERT_EQ(s.status, Status::ok);
  EXPECT_EQ(s.hdr.flags, kFlagTs);
  const std::uint8_t* out = s.dgram.data() + 24;
  auto pkt = [&](int i) { return out + i * 188; };
  auto same_as_input = [&](int i) { return std::equal(pkt(i), pkt(i) + 188, in.begin() + i * 188); };
  EXPECT_EQ(ts_scrambling(pkt(0)), 2);
  EXPECT_TRUE(std::equal(pkt(0), pkt(0) + 3, in.begin()));      // sync and PID stay
  EXPECT_FALSE(std::equal(pkt(0) + 4, pkt(0) + 188, in.begin() + 4));
  EXPECT_TRUE(same_as_input(1)) << "PSI PID stays clear";
  EXPECT_TRUE(same_as_input(2)) << "null PID stays clear";
  EXPECT_TRUE(same_as_input(3)) << "channel clear PID stays clear";
  EXPECT_TRUE(same_as_input(4)) << "no payload stays clear";
  EXPECT_EQ(ts_scrambling(pkt(5)), 2);
  EXPECT_TRUE(std::equal(pkt(5), pkt(5) + 15, in.begin() + 5 * 188 + 0) == false);
  EXPECT_TRUE(std::equal(pkt(5) + 4, pkt(5) + 15, in.begin() + 5 * 188 + 4)) << "adaptation field stays clear";
  EXPECT_TRUE(same_as_input(6)) << "adaptation field filling the packet: no payload";

  // One continuous keystream over the scrambled payload bytes only.
  const Bytes k = key_material(Suite::xor_pattern);
  std::size_t i = 0;
  for (const auto& [p, off] : {std::pair{0, 4}, std::pair{5, 15}})
    for (int b = off; b < 188; ++b, ++i)
      ASSERT_EQ(pkt(p)[b] ^ in[static_cast<std::size_t>(p * 188 + b)], k[i % k.size()]) << p << ":" << b;
}

// wire-format.md section 4 for the xor suites, written out packet by packet:
// what scramble() must produce, whichever way it gets there (payload-only
// datagrams of up to PreparedKey::kTsKeystreamPackets take one XOR with the
// key's TS keystream).
Bytes reference_ts_scramble(Suite suite, const Bytes& pattern, std::uint32_t key_id, const PidSet& clear,
                            const Bytes& in) {
  Bytes out = in;
  std::size_t i = 0;
  for (std::size_t at = 0; at < out.size(); at += kTsPacketLen) {
    std::uint8_t* pkt = out.data() + at;
    const std::uint8_t afc = (pkt[3] >> 4) & 3;
    const std::size_t off = afc == 1 ? 4 : afc == 3 ? 5u + pkt[4] : kTsPacketLen;
    if (off >= kTsPacketLen || clear.contains(ts_pid(pkt))) continue;
    pkt[3] = static_cast<std::uint8_t>(pkt[3] | ((key_id & 1) ? 0xC0 : 0x80));
    for (std::size_t b = off; b < kTsPacketLen; ++b, ++i) {
      std::uint8_t k = pattern[i % pattern.size()];
      if (suite == Suite::xor_inv && (i / pattern.size()) % 2 == 1) k = static_cast<std::uint8_t>(~k);
      pkt[b] ^= k;
    }
  }
  return out;
}

TEST(ScrambleTs, XorSuitesMatchTheRulesForEveryMixOfPackets) {
  std::mt19937 rng(188);
  ChannelRules rules;
  rules.ts = true;
  rules.clear_pids.add(0x1000);
  const std::uint16_t pids[] = {0x100, 0x101, 0x1000, 0x10, 0x1FFF};
  for (const Suite suite : {Suite::xor_pattern, Suite::xor_inv}) {
    for (const std::uint32_t key_id : {6u, 7u}) {
      PreparedKey key;
      prepare(key, suite, key_id);
      for (int round = 0; round < 400; ++round) {
        const std::size_t packets = 1 + rng() % 9;  // up to 9: past the TS keystream's 7 too
        const bool payload_only = rng() % 2;        // then every packet: the single-XOR case
        Bytes in;
        for (std::size_t p = 0; p < packets; ++p) {
          const std::uint16_t pid = payload_only ? pids[rng() % 2] : pids[rng() % std::size(pids)];
          const std::uint8_t afc = payload_only ? 1 : static_cast<std::uint8_t>(1 + rng() % 3);
          const Bytes pkt = ts_packet(pid, afc, static_cast<std::uint8_t>(rng() % 184), static_cast<std::uint8_t>(rng()));
          in.insert(in.end(), pkt.begin(), pkt.end());
        }
        const Scrambled s = do_scramble(key, rules, in);
        ASSERT_EQ(s.status, Status::ok);
        ASSERT_EQ(s.hdr.flags, kFlagTs);
        const Bytes want = reference_ts_scramble(suite, key_material(suite), key_id, rules.clear_pids, in);
        ASSERT_TRUE(std::equal(want.begin(), want.end(), s.dgram.begin() + 24))
            << suite_name(suite) << " key " << key_id << " round " << round << " packets " << packets;
        Bytes clear;
        ASSERT_EQ(do_descramble(key, s.dgram, clear), Status::ok);
        ASSERT_EQ(clear, in) << suite_name(suite) << " round " << round;
      }
    }
  }
}

TEST(ScrambleTs, OddKeySetsScramblingBits11) {
  PreparedKey key;
  prepare(key, Suite::aes128_ctr, 7);
  ChannelRules rules;
  rules.ts = true;
  const Scrambled s = do_scramble(key, rules, ts_packet(0x100));
  ASSERT_EQ(s.status, Status::ok);
  EXPECT_EQ(ts_scrambling(s.dgram.data() + 24), 3);
}

TEST(ScrambleTs, DropsInputThatIsAlreadyScrambled) {
  PreparedKey key;
  prepare(key, Suite::xor_pattern);
  ChannelRules rules;
  rules.ts = true;
  Bytes in = concat({ts_packet(0x100), ts_packet(0x101)});
  in[188 + 3] |= 0x80;
  EXPECT_EQ(do_scramble(key, rules, in).status, Status::ts_already_scrambled);
}

TEST(ScrambleTs, DropsAdaptationFieldOverrun) {
  PreparedKey key;
  prepare(key, Suite::xor_pattern);
  ChannelRules rules;
  rules.ts = true;
  EXPECT_EQ(do_scramble(key, rules, ts_packet(0x100, 3, 184)).status, Status::ts_bad_adaptation_field);
}

TEST(ScrambleTs, NotWholePacketsAreScrambledWhole) {
  PreparedKey key;
  prepare(key, Suite::xor_pattern);
  ChannelRules rules;
  rules.ts = true;
  Bytes bad_sync = concat({ts_packet(0x100), ts_packet(0x100)});
  bad_sync[188] = 0x46;
  Bytes short_packet = ts_packet(0x100);
  short_packet.pop_back();
  for (const Bytes& in : {short_packet, bad_sync}) {
    const Scrambled s = do_scramble(key, rules, in);
    ASSERT_EQ(s.status, Status::ok);
    EXPECT_EQ(s.hdr.flags, 0);
    EXPECT_NE(s.dgram[24], kTsSync ^ 0) << "first byte scrambled too";
  }
}

TEST(ScrambleTs, GcmNeverSetsTs) {
  PreparedKey key;
  prepare(key, Suite::aes128_gcm);
  ChannelRules rules;
  rules.ts = true;
  const Scrambled s = do_scramble(key, rules, ts_packet(0x100));
  ASSERT_EQ(s.status, Status::ok);
  EXPECT_EQ(s.hdr.flags, 0);
}

TEST(ScrambleRtp, KeepsTheRtpHeaderClear) {
  PreparedKey key;
  prepare(key, Suite::aes128_ctr);
  ChannelRules rules;
  rules.rtp = true;
  const Bytes rtp = rtp_header(1, true);
  const Bytes in = concat({rtp, Bytes(100, 0)});
  const Scrambled s = do_scramble(key, rules, in);
  ASSERT_EQ(s.status, Status::ok);
  EXPECT_EQ(s.hdr.flags, kFlagRtp);
  EXPECT_TRUE(std::equal(rtp.begin(), rtp.end(), s.dgram.begin() + 24));
  EXPECT_NE(Bytes(s.dgram.begin() + 24 + static_cast<std::ptrdiff_t>(rtp.size()), s.dgram.end()), Bytes(100, 0));
}

TEST(Descramble, RejectsMalformedPayloadRegions) {
  PreparedKey gcm, xr;
  prepare(gcm, Suite::aes128_gcm);
  prepare(xr, Suite::xor_pattern);
  Bytes clear;

  Scrambled g = do_scramble(gcm, {}, Bytes(10, 1));
  g.dgram.resize(24 + 15);
  EXPECT_EQ(do_descramble(gcm, g.dgram, clear), Status::payload_too_short);

  ChannelRules ts;
  ts.ts = true;
  Scrambled t = do_scramble(xr, ts, ts_packet(0x100));
  t.dgram.pop_back();
  EXPECT_EQ(do_descramble(xr, t.dgram, clear), Status::ts_not_whole_packets);

  ChannelRules rtp;
  rtp.rtp = true;
  Scrambled r = do_scramble(xr, rtp, rtp_header());
  r.dgram[24] = 0x40;
  EXPECT_EQ(do_descramble(xr, r.dgram, clear), Status::rtp_bad_version);
  r.dgram.resize(24 + 11);
  EXPECT_EQ(do_descramble(xr, r.dgram, clear), Status::rtp_truncated);

  Scrambled a = do_scramble(xr, ts, ts_packet(0x100, 3, 20));
  a.dgram[24 + 4] = 200;  // adaptation field length overruns, scrambled packet
  EXPECT_EQ(do_descramble(xr, a.dgram, clear), Status::ts_bad_adaptation_field);
}

TEST(Descramble, RejectsScramblingBitsOfTheOtherParity) {
  PreparedKey key;
  prepare(key, Suite::xor_pattern, 6);  // even: 10
  ChannelRules rules;
  rules.ts = true;
  Scrambled s = do_scramble(key, rules, concat({ts_packet(0x100), ts_packet(0x101)}));
  ASSERT_EQ(s.status, Status::ok);
  s.dgram[24 + 188 + 3] |= 0xC0;  // second packet claims 11 (odd)
  Bytes clear;
  EXPECT_EQ(do_descramble(key, s.dgram, clear), Status::ts_parity_mismatch);
}

TEST(Descramble, RefusesNoticesAndUnpreparedKeys) {
  PreparedKey key, none;
  prepare(key, Suite::xor_pattern);
  const KcHeader n = make_key_notice(1, Suite::xor_pattern, 1, 2, 10);
  Bytes b(header_len(n));
  encode_header(n, b.data());
  Bytes clear;
  EXPECT_EQ(do_descramble(key, b, clear), Status::kc_bad_type);
  const Scrambled s = do_scramble(key, {}, Bytes(10, 1));
  EXPECT_EQ(do_descramble(none, s.dgram, clear), Status::key_not_prepared);
  EXPECT_EQ(do_scramble(none, {}, Bytes(10, 1)).status, Status::key_not_prepared);
}

TEST(Scramble, RefusesOversizeDatagrams) {
  PreparedKey key;
  prepare(key, Suite::aes128_gcm);
  EXPECT_EQ(do_scramble(key, {}, Bytes(kMaxUdpPayload - 24 - 16 + 1)).status, Status::payload_too_long);
  EXPECT_EQ(do_scramble(key, {}, Bytes(kMaxUdpPayload - 24 - 16)).status, Status::ok);
}

TEST(PreparedKey, RejectsKeyLengthsOutsideTheSuite) {
  PreparedKey key;
  const struct {
    Suite s;
    std::size_t len;
    bool ok;
  } cases[] = {
      {Suite::xor_pattern, 0, false},   {Suite::xor_pattern, 1, true},   {Suite::xor_pattern, 1024, true},
      {Suite::xor_pattern, 1025, false}, {Suite::xor_inv, 512, true},    {Suite::xor_inv, 513, false},
      {Suite::aes128_ctr, 15, false},   {Suite::aes128_ctr, 16, true},   {Suite::aes128_ctr, 32, false},
      {Suite::aes256_ctr, 32, true},    {Suite::aes256_ctr, 16, false},  {Suite::aes128_gcm, 16, true},
      {Suite::aes128_gcm, 12, false},
  };
  for (const auto& c : cases) {
    const Bytes m(c.len, 0x11);
    EXPECT_EQ(key.prepare(c.s, 1, m) == Status::ok, c.ok) << suite_name(c.s) << " " << c.len;
    EXPECT_EQ(key.ready(), c.ok);
  }
}

TEST(PreparedKey, WipeMakesItUnready) {
  PreparedKey key;
  prepare(key, Suite::xor_pattern);
  key.wipe();
  EXPECT_FALSE(key.ready());
  EXPECT_TRUE(key.pattern().empty());
}

// The AES backends against each other: over random keys, IVs, lengths and
// layouts EVP and ipsec-mb scramble to the same bytes and descramble each
// other's datagrams. Skipped where ipsec-mb is not built in or the CPU takes
// none of the paths keycast uses it on (aes.cc).
constexpr Suite kAesSuites[] = {Suite::aes128_ctr, Suite::aes256_ctr, Suite::aes128_gcm};

struct Layout {
  bool ts = false;
  bool rtp = false;
  bool header_apart = false;
};

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : g_(seed) {}
  std::size_t below(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(g_); }
  std::uint64_t u64() { return g_(); }
  Bytes bytes(std::size_t n) {
    Bytes b(n);
    for (auto& x : b) x = static_cast<std::uint8_t>(g_());
    return b;
  }

 private:
  std::mt19937_64 g_;
};

// A random RTP header with `ext_words` words of extension (none when 0).
Bytes random_rtp_header(Rng& rng, std::size_t csrc, std::size_t ext_words) {
  Bytes h = rng.bytes(kRtpFixedLen + 4 * csrc + (ext_words ? 4 + 4 * ext_words : 0));
  h[0] = static_cast<std::uint8_t>(0x80 | (ext_words ? 0x10 : 0) | csrc);
  if (ext_words) {
    const std::size_t at = kRtpFixedLen + 4 * csrc;
    h[at + 2] = static_cast<std::uint8_t>(ext_words >> 8);
    h[at + 3] = static_cast<std::uint8_t>(ext_words);
  }
  return h;
}

// n TS packets with random PIDs (some clear by default) and adaptation fields.
Bytes random_ts_packets(Rng& rng, std::size_t n) {
  Bytes p = rng.bytes(n * kTsPacketLen);
  for (std::size_t k = 0; k < p.size(); k += kTsPacketLen) {
    p[k] = kTsSync;
    const std::size_t afc = 1 + rng.below(3);
    p[k + 3] = static_cast<std::uint8_t>(afc << 4 | (p[k + 3] & 0x0F));  // scrambling bits 00
    if (afc == 3) p[k + 4] = static_cast<std::uint8_t>(rng.below(184));
  }
  return p;
}

class AesBackends : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!force_aes_backend(AesBackend::ipsec_mb)) GTEST_SKIP() << "ipsec-mb not built in or not usable on this CPU";
  }
  void TearDown() override { force_aes_backend(before_); }

  const AesBackend before_ = aes_backend();

  // Both keys prepared from the same material, one per backend.
  void prepare_both(Suite s, const Bytes& material) {
    ASSERT_TRUE(force_aes_backend(AesBackend::evp));
    ASSERT_EQ(evp_.prepare(s, 7, material), Status::ok);
    ASSERT_TRUE(force_aes_backend(AesBackend::ipsec_mb));
    ASSERT_EQ(imb_.prepare(s, 7, material), Status::ok);
    ASSERT_EQ(evp_.backend(), AesBackend::evp);
    ASSERT_EQ(imb_.backend(), AesBackend::ipsec_mb);
  }

  // Scrambles with both, expects the same bytes, and each descrambles the other's.
  void cross(const Layout& lay, const Bytes& clear, std::uint32_t channel, std::uint64_t seq) {
    ChannelRules rules;
    rules.ts = lay.ts;
    rules.rtp = lay.rtp;
    const Scrambled e = do_scramble(evp_, rules, clear, seq, channel, lay.header_apart);
    const Scrambled i = do_scramble(imb_, rules, clear, seq, channel, lay.header_apart);
    ASSERT_EQ(e.status, i.status);
    if (e.status != Status::ok) return;
    const Bytes& de = e.dgram;
    const Bytes& di = i.dgram;
    ASSERT_EQ(de, di) << "suite " << suite_name(evp_.suite()) << " len " << clear.size() << " ts " << lay.ts
                      << " rtp " << lay.rtp << " apart " << lay.header_apart;
    Bytes back;
    ASSERT_EQ(do_descramble(evp_, di, back), Status::ok);
    ASSERT_EQ(back, clear);
    ASSERT_EQ(do_descramble(imb_, de, back), Status::ok);
    ASSERT_EQ(back, clear);
    if (suite_is_gcm(evp_.suite())) {  // a flipped bit in the tag or the byte before fails on both
      Bytes bad = de;
      bad[bad.size() - 1 - seq % (kGcmTagLen + 1)] ^= 0x10;
      EXPECT_EQ(do_descramble(evp_, bad, back), Status::gcm_auth_failed);
      EXPECT_EQ(do_descramble(imb_, bad, back), Status::gcm_auth_failed);
    }
  }

  PreparedKey evp_;
  PreparedKey imb_;
};

TEST_F(AesBackends, SameBytesOverRandomKeysIvsAndLengths) {
  Rng rng(0x6b657963617374);
  for (int round = 0; round < 600; ++round) {
    const Suite s = kAesSuites[rng.below(3)];
    prepare_both(s, rng.bytes(s == Suite::aes256_ctr ? 32 : 16));
    Layout lay;
    lay.rtp = rng.below(3) == 0;
    lay.ts = !suite_is_gcm(s) && rng.below(2) == 0;
    lay.header_apart = rng.below(4) == 0;
    Bytes clear = lay.rtp ? random_rtp_header(rng, rng.below(16), rng.below(3) ? 0 : rng.below(40)) : Bytes{};
    // Lengths around block and chunk edges, and beyond the 2048-byte keystream chunk.
    const std::size_t n = lay.ts ? 1 + rng.below(24) : (rng.below(4) ? rng.below(1600) : rng.below(9000));
    const Bytes body = lay.ts ? random_ts_packets(rng, n) : rng.bytes(n);
    clear.insert(clear.end(), body.begin(), body.end());
    const auto channel = static_cast<std::uint32_t>(1 + rng.below(0xFFFFFFFEu));
    // Any seq, including ones whose low bytes are all ones (the counter never carries into them).
    const std::uint64_t seq = rng.below(8) == 0 ? ~std::uint64_t{0} - rng.below(4) : 1 + rng.u64() % ~std::uint64_t{0};
    cross(lay, clear, channel, seq);
    if (HasFatalFailure()) return;
  }
}

TEST_F(AesBackends, GcmWithAnAadTooLongToGather) {
  // Header apart from a payload whose RTP header is ~2 KB: ipsec-mb keys hand
  // this datagram to EVP; the bytes are the same either way.
  Rng rng(5);
  prepare_both(Suite::aes128_gcm, rng.bytes(16));
  Bytes clear = random_rtp_header(rng, 3, 500);
  const Bytes body = rng.bytes(1316);
  clear.insert(clear.end(), body.begin(), body.end());
  cross({.ts = false, .rtp = true, .header_apart = true}, clear, 9, 77);
  cross({.ts = false, .rtp = true, .header_apart = false}, clear, 9, 78);
}

TEST_F(AesBackends, EveryLengthUpToFourBlocksPastAChunk) {
  Rng rng(11);
  for (Suite s : kAesSuites) {
    prepare_both(s, rng.bytes(s == Suite::aes256_ctr ? 32 : 16));
    for (std::size_t n : {std::size_t{0}, std::size_t{1}}) cross({}, rng.bytes(n), 3, n);
    for (std::size_t n = 2040; n <= 2048 + 64; ++n) {
      cross({}, rng.bytes(n), 3, n);
      if (HasFatalFailure()) return;
    }
  }
}

TEST(AesBackend, EvpIsAlwaysThereAndNamed) {
  const AesBackend before = aes_backend();
  EXPECT_TRUE(force_aes_backend(AesBackend::evp));
  EXPECT_EQ(aes_backend(), AesBackend::evp);
  PreparedKey k;
  ASSERT_EQ(k.prepare(Suite::aes128_gcm, 1, Bytes(16, 0x42)), Status::ok);
  EXPECT_EQ(k.backend(), AesBackend::evp);
  EXPECT_EQ(aes_backend_name(AesBackend::evp), "evp");
  EXPECT_EQ(aes_backend_name(AesBackend::ipsec_mb), "ipsec-mb");
  force_aes_backend(before);
}

// What the warm-up leaves: the backend as it was, and keys prepared after it
// (twice, in any order) scrambling as before.
TEST(AesBackend, WarmUpChangesNothingAKeyDoes) {
  const AesBackend before = aes_backend();
  Rng rng(12);
  const Bytes material = rng.bytes(16);
  const Bytes clear = rng.bytes(1316);
  PreparedKey cold;
  ASSERT_EQ(cold.prepare(Suite::aes128_ctr, 7, material), Status::ok);
  const Scrambled want = do_scramble(cold, {}, clear);
  ASSERT_EQ(want.status, Status::ok);
  warm_up_aes();
  warm_up_aes();
  EXPECT_EQ(aes_backend(), before);
  PreparedKey warm;
  ASSERT_EQ(warm.prepare(Suite::aes128_ctr, 7, material), Status::ok);
  EXPECT_EQ(warm.backend(), before);
  const Scrambled got = do_scramble(warm, {}, clear);
  ASSERT_EQ(got.status, Status::ok);
  EXPECT_EQ(got.dgram, want.dgram);
}

#ifdef PKTPARSE_HAVE_IPSEC_MB
bool all_zero(const void* p, std::size_t n) {
  const auto* b = static_cast<const std::uint8_t*>(p);
  return std::all_of(b, b + n, [](std::uint8_t x) { return x == 0; });
}

TEST_F(AesBackends, WipeClearsTheKeySchedules) {
  for (Suite s : kAesSuites) {
    PreparedKey k;
    ASSERT_EQ(k.prepare(s, 1, Bytes(s == Suite::aes256_ctr ? 32 : 16, 0x5A)), Status::ok);
    const detail::AesKey* a = k.aes();
    ASSERT_NE(a, nullptr);
    EXPECT_FALSE(all_zero(a->gcm.expanded_keys, sizeof a->gcm.expanded_keys) &&
                 all_zero(a->enc_keys, sizeof a->enc_keys));
    k.wipe();
    EXPECT_TRUE(all_zero(&a->gcm, sizeof a->gcm));
    EXPECT_TRUE(all_zero(a->enc_keys, sizeof a->enc_keys));
    EXPECT_TRUE(all_zero(a->dec_keys, sizeof a->dec_keys));
    EXPECT_FALSE(k.ready());
  }
}
#endif

}  // namespace
}  // namespace pktparse
