// keycast header: encode/parse round trips, TLV rules and every rejection.
#include <gtest/gtest.h>

#include <vector>

#include "pktparse/keycast_header.h"

namespace pktparse {
namespace {

using Bytes = std::vector<std::uint8_t>;

KcHeader full_header() {
  KcHeader h;
  h.suite = Suite::aes256_ctr;
  h.flags = kFlagTs | kFlagRtp;
  h.channel_id = 0x01020304;
  h.key_id = 77;
  h.seq = 0x1122334455667788ull;
  h.key_remaining_ms = 5000;
  h.set(TlvType::key_remaining_ms);
  h.keymgr4 = {{127, 0, 0, 1}, 7000};
  h.set(TlvType::keymgr_addr4);
  h.keymgr6 = {{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 7001};
  h.set(TlvType::keymgr_addr6);
  h.next_key_id = 78;
  h.set(TlvType::next_key_id);
  h.next_key_in_ms = 1234;
  h.set(TlvType::next_key_in_ms);
  return h;
}

Bytes encode(const KcHeader& h) {
  Bytes b(header_len(h));
  EXPECT_EQ(encode_header(h, b.data()), b.size());
  return b;
}

Bytes base_data_header() {
  KcHeader h;
  h.channel_id = 1;
  h.key_id = 1;
  return encode(h);
}

Status header_status(const Bytes& b) {
  KcHeader h;
  return parse_header(b, h);
}

TEST(KeycastHeader, RoundTripsEveryTlv) {
  const KcHeader h = full_header();
  const Bytes b = encode(h);
  EXPECT_EQ(b.size() % 4, 0u);
  EXPECT_EQ(b.size(), 24u + 6 + 8 + 20 + 6 + 6 + 2);
  KcHeader p;
  ASSERT_EQ(parse_header(b, p), Status::ok);
  EXPECT_EQ(p.hdr_len, b.size());
  EXPECT_EQ(p.suite, h.suite);
  EXPECT_EQ(p.flags, h.flags);
  EXPECT_EQ(p.channel_id, h.channel_id);
  EXPECT_EQ(p.key_id, h.key_id);
  EXPECT_EQ(p.seq, h.seq);
  EXPECT_EQ(p.tlvs, h.tlvs);
  EXPECT_EQ(p.key_remaining_ms, 5000u);
  EXPECT_EQ(p.keymgr4.port, 7000);
  EXPECT_EQ(p.keymgr4.addr[0], 127);
  EXPECT_EQ(p.keymgr6.port, 7001);
  EXPECT_EQ(p.keymgr6.addr[15], 1);
  EXPECT_EQ(p.next_key_id, 78u);
  EXPECT_EQ(p.next_key_in_ms, 1234u);
}

TEST(KeycastHeader, PlainHeaderIs24Bytes) {
  EXPECT_EQ(base_data_header().size(), 24u);
  EXPECT_EQ(header_status(base_data_header()), Status::ok);
}

TEST(KeycastHeader, SkipsUnknownTlvsAndPadding) {
  Bytes b = base_data_header();
  const Bytes tlvs = {0x00, 0x7E, 0x03, 0xAA, 0xBB, 0xCC, 0x01, 0x04, 0, 0, 0, 9, 0x00, 0x00, 0x00, 0x00};
  b.insert(b.end(), tlvs.begin(), tlvs.end());
  b[7] = static_cast<std::uint8_t>(b.size());
  KcHeader p;
  ASSERT_EQ(parse_header(b, p), Status::ok);
  EXPECT_TRUE(p.has(TlvType::key_remaining_ms));
  EXPECT_EQ(p.key_remaining_ms, 9u);
}

TEST(KeycastHeader, KeepsTheFirstOfRepeatedTlvs) {
  Bytes b = base_data_header();
  const Bytes tlvs = {0x01, 0x04, 0, 0, 0, 1, 0x01, 0x04, 0, 0, 0, 2};
  b.insert(b.end(), tlvs.begin(), tlvs.end());
  b[7] = static_cast<std::uint8_t>(b.size());
  KcHeader p;
  ASSERT_EQ(parse_header(b, p), Status::ok);
  EXPECT_EQ(p.key_remaining_ms, 1u);
}

TEST(KeycastHeader, PayloadAfterDataHeaderIsAllowed) {
  Bytes b = base_data_header();
  b.resize(b.size() + 100, 0x55);
  EXPECT_EQ(header_status(b), Status::ok);
}

struct Mutation {
  const char* what;
  std::size_t at;
  std::uint8_t value;
  Status expected;
};

TEST(KeycastHeader, RejectsEachMalformedField) {
  const Mutation cases[] = {
      {"magic", 0, 0x4C, Status::kc_bad_magic},
      {"magic 2nd byte", 1, 0x00, Status::kc_bad_magic},
      {"version 0", 2, 0, Status::kc_bad_version},
      {"version 2", 2, 2, Status::kc_bad_version},
      {"type 0", 3, 0, Status::kc_bad_type},
      {"type 3", 3, 3, Status::kc_bad_type},
      {"suite 0", 4, 0, Status::kc_bad_suite},
      {"suite 6", 4, 6, Status::kc_bad_suite},
      {"flags bit 2", 5, 0x04, Status::kc_bad_flags},
      {"flags bit 7", 5, 0x80, Status::kc_bad_flags},
      {"hdr_len 20", 7, 20, Status::kc_bad_hdr_len},
      {"hdr_len 26", 7, 26, Status::kc_bad_hdr_len},
      {"hdr_len 28 > 24 bytes", 7, 28, Status::kc_hdr_len_beyond_datagram},
      {"channel 0", 11, 0, Status::kc_zero_channel},
      {"key 0", 15, 0, Status::kc_zero_key},
  };
  for (const auto& c : cases) {
    Bytes b = base_data_header();
    b[c.at] = c.value;
    EXPECT_EQ(header_status(b), c.expected) << c.what;
  }
}

TEST(KeycastHeader, RejectsGcmWithTs) {
  Bytes b = base_data_header();
  b[4] = static_cast<std::uint8_t>(Suite::aes128_gcm);
  b[5] = kFlagTs;
  EXPECT_EQ(header_status(b), Status::kc_ts_with_gcm);
  b[5] = kFlagRtp;
  EXPECT_EQ(header_status(b), Status::ok);
}

TEST(KeycastHeader, RejectsTlvOverruns) {
  for (const Bytes& tlvs : {Bytes{0x00, 0x00, 0x00, 0x01}, Bytes{0x7E, 0x03, 0xAA, 0xBB}, Bytes{0x01, 0x04, 0, 0}}) {
    Bytes b = base_data_header();
    b.insert(b.end(), tlvs.begin(), tlvs.end());
    b[7] = static_cast<std::uint8_t>(b.size());
    EXPECT_EQ(header_status(b), Status::kc_tlv_overrun);
  }
}

TEST(KeycastHeader, RejectsKnownTlvWithWrongLength) {
  Bytes b = base_data_header();
  const Bytes tlvs = {0x04, 0x02, 0, 9};
  b.insert(b.end(), tlvs.begin(), tlvs.end());
  b[7] = static_cast<std::uint8_t>(b.size());
  EXPECT_EQ(header_status(b), Status::kc_bad_tlv_length);
}

TEST(KeycastHeader, EveryTruncationIsRejected) {
  const Bytes b = encode(full_header());
  for (std::size_t n = 0; n < b.size(); ++n)
    EXPECT_NE(header_status(Bytes(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n))), Status::ok) << n;
}

TEST(KeyNotice, EncodesAndParses) {
  const KcHeader n = make_key_notice(3, Suite::xor_pattern, 10, 11, 2500);
  const Bytes b = encode(n);
  KcHeader p;
  ASSERT_EQ(parse_header(b, p), Status::ok);
  EXPECT_EQ(p.type, MsgType::key_notice);
  EXPECT_EQ(p.seq, 0u);
  EXPECT_EQ(p.key_id, 10u);
  EXPECT_EQ(p.next_key_id, 11u);
  EXPECT_EQ(p.next_key_in_ms, 2500u);
}

TEST(KeyNotice, NeedsNextKeyIdAndNoPayload) {
  KcHeader n = make_key_notice(3, Suite::xor_pattern, 10, 11, 2500);
  Bytes b = encode(n);
  b.push_back(0);
  EXPECT_EQ(header_status(b), Status::kc_notice_with_payload);
  n.clear(TlvType::next_key_id);
  EXPECT_EQ(header_status(encode(n)), Status::kc_notice_incomplete);
}

TEST(KeyNotice, KeyIdZeroIsNotRejected) {
  EXPECT_EQ(header_status(encode(make_key_notice(3, Suite::xor_pattern, 0, 1, 100))), Status::ok);
}

TEST(Status, EveryValueHasANameAndText) {
  for (std::uint8_t i = 0; i < kStatusCount; ++i) {
    EXPECT_STRNE(status_name(static_cast<Status>(i)), "unknown");
    EXPECT_STRNE(status_text(static_cast<Status>(i)), "unknown status");
  }
  EXPECT_STREQ(status_name(Status::kc_bad_magic), "kc_bad_magic");
}

}  // namespace
}  // namespace pktparse
