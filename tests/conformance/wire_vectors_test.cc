// Conformance with ../shared/spec/vectors/wire-v1.json: every vector
// scrambles to its bytes and descrambles back, the KEY_NOTICE encodes byte for
// byte, and every must_reject entry is rejected with its own Status.
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "spec_vectors.h"

#include "pktparse/keycast_header.h"
#include "pktparse/scramble.h"

// Its own namespace: the conformance tests share one binary (and with unity
// builds, one translation unit).
namespace keycast::conformance::wire_vectors {
namespace {

using namespace pktparse;
using json = nlohmann::json;
using Bytes = std::vector<std::uint8_t>;

const json& vectors() {
  static const json doc = keycast::conformance::load_vectors("wire-v1.json");
  return doc;
}

std::uint32_t be32(const Bytes& b, std::size_t at = 0) {
  return static_cast<std::uint32_t>(b[at] << 24 | b[at + 1] << 16 | b[at + 2] << 8 | b[at + 3]);
}

// Sets the vector's TLVs on h, decoding their values as wire-format.md's TLV
// table says.
void apply_tlvs(const json& tlvs, KcHeader& h) {
  for (const auto& t : tlvs) {
    const auto type = static_cast<TlvType>(t["type"].get<int>());
    const Bytes v = unhex(t["value"].get<std::string>());
    switch (type) {
      case TlvType::key_remaining_ms: h.key_remaining_ms = be32(v); break;
      case TlvType::next_key_id: h.next_key_id = be32(v); break;
      case TlvType::next_key_in_ms: h.next_key_in_ms = be32(v); break;
      case TlvType::keymgr_addr4:
        std::copy(v.begin(), v.begin() + 4, h.keymgr4.addr);
        h.keymgr4.port = static_cast<std::uint16_t>(v[4] << 8 | v[5]);
        break;
      case TlvType::keymgr_addr6:
        std::copy(v.begin(), v.begin() + 16, h.keymgr6.addr);
        h.keymgr6.port = static_cast<std::uint16_t>(v[16] << 8 | v[17]);
        break;
      case TlvType::pad: break;
    }
    h.set(type);
  }
}

class WireVector : public ::testing::TestWithParam<std::size_t> {
 protected:
  const json& v() const { return vectors()["vectors"][GetParam()]; }
  Suite suite() const { return *suite_from_name(v()["suite"].get<std::string>()); }
  void prepare(PreparedKey& key) const {
    ASSERT_TRUE(suite_from_name(v()["suite"].get<std::string>())) << v()["suite"];
    ASSERT_EQ(key.prepare(suite(), v()["key_id"].get<std::uint32_t>(), unhex(v()["key"].get<std::string>())),
              Status::ok);
  }
};

TEST_P(WireVector, ScramblesToTheVectorBytes) {
  PreparedKey key;
  prepare(key);
  ChannelRules rules;
  rules.ts = v()["ts"].get<bool>();
  rules.rtp = v()["rtp"].get<bool>();
  for (const auto& pid : v()["clear_pids"]) rules.clear_pids.add(pid.get<std::uint16_t>());
  KcHeader hdr;
  hdr.channel_id = v()["channel_id"].get<std::uint32_t>();
  hdr.seq = v()["seq"].get<std::uint64_t>();
  apply_tlvs(v()["tlvs"], hdr);

  const Bytes clear = unhex(v()["clear_payload"].get<std::string>());
  const Bytes expected = unhex(v()["scrambled_udp_payload"].get<std::string>());
  const std::size_t hlen = header_len(hdr);
  Bytes buf(hlen + clear.size() + kGcmTagLen, 0xEE);
  std::copy(clear.begin(), clear.end(), buf.begin() + static_cast<std::ptrdiff_t>(hlen));
  ASSERT_EQ(scramble(key, rules, hdr, buf.data(), buf.data() + hlen, clear.size()), Status::ok);
  buf.resize(hlen + clear.size() + suite_trailer_len(suite()));
  EXPECT_EQ(buf, expected) << v()["name"];
}

TEST_P(WireVector, DescramblesToTheClearPayload) {
  PreparedKey key;
  prepare(key);
  Bytes dgram = unhex(v()["scrambled_udp_payload"].get<std::string>());
  KcHeader hdr;
  ASSERT_EQ(parse_header(dgram, hdr), Status::ok);
  EXPECT_EQ(hdr.type, MsgType::data);
  EXPECT_EQ(hdr.channel_id, v()["channel_id"].get<std::uint32_t>());
  EXPECT_EQ(hdr.key_id, v()["key_id"].get<std::uint32_t>());
  EXPECT_EQ(hdr.seq, v()["seq"].get<std::uint64_t>());
  EXPECT_EQ(hdr.suite, suite());
  KcHeader want;
  apply_tlvs(v()["tlvs"], want);
  EXPECT_EQ(hdr.tlvs, want.tlvs);
  EXPECT_EQ(hdr.key_remaining_ms, want.key_remaining_ms);
  EXPECT_EQ(hdr.next_key_id, want.next_key_id);
  EXPECT_EQ(hdr.next_key_in_ms, want.next_key_in_ms);
  EXPECT_EQ(hdr.keymgr4.port, want.keymgr4.port);
  EXPECT_EQ(hdr.keymgr6.port, want.keymgr6.port);
  std::span<std::uint8_t> clear;
  ASSERT_EQ(descramble(key, hdr, dgram, clear), Status::ok);
  EXPECT_EQ(Bytes(clear.begin(), clear.end()), unhex(v()["clear_payload"].get<std::string>())) << v()["name"];
}

std::vector<std::size_t> vector_indices() {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < vectors()["vectors"].size(); ++i) out.push_back(i);
  return out;
}

INSTANTIATE_TEST_SUITE_P(Spec, WireVector, ::testing::ValuesIn(vector_indices()),
                         [](const ::testing::TestParamInfo<std::size_t>& p) {
                           std::string n = vectors()["vectors"][p.param]["name"].get<std::string>();
                           for (auto& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(WireSpec, HasVectors) {
  EXPECT_GE(vectors()["vectors"].size(), 11u);
  EXPECT_GE(vectors()["must_reject"].size(), 8u);
}

TEST(WireSpec, TamperedGcmDatagramsAreRejected) {
  int gcm_vectors = 0;
  for (const auto& v : vectors()["vectors"]) {
    if (v["suite"] != "aes128-gcm") continue;
    ++gcm_vectors;
    PreparedKey key;
    ASSERT_EQ(key.prepare(Suite::aes128_gcm, v["key_id"].get<std::uint32_t>(), unhex(v["key"].get<std::string>())),
              Status::ok);
    const Bytes dgram = unhex(v["scrambled_udp_payload"].get<std::string>());
    for (const std::size_t at : {std::size_t{20}, dgram.size() / 2, dgram.size() - 1}) {
      Bytes bad = dgram;
      bad[at] ^= 0x01;
      KcHeader hdr;
      ASSERT_EQ(parse_header(bad, hdr), Status::ok);
      std::span<std::uint8_t> clear;
      EXPECT_EQ(descramble(key, hdr, bad, clear), Status::gcm_auth_failed) << v["name"] << " byte " << at;
    }
  }
  EXPECT_GE(gcm_vectors, 1);
}

TEST(WireSpec, KeyNoticeEncodesByteForByte) {
  const json& n = vectors()["key_notice"];
  const KcHeader h = make_key_notice(n["channel_id"].get<std::uint32_t>(),
                                     *suite_from_name(n["suite"].get<std::string>()),
                                     n["current_key_id"].get<std::uint32_t>(), n["next_key_id"].get<std::uint32_t>(),
                                     n["next_in_ms"].get<std::uint32_t>());
  Bytes out(header_len(h));
  ASSERT_EQ(encode_header(h, out.data()), out.size());
  EXPECT_EQ(out, unhex(n["udp_payload"].get<std::string>()));

  KcHeader parsed;
  ASSERT_EQ(parse_header(out, parsed), Status::ok);
  EXPECT_EQ(parsed.type, MsgType::key_notice);
  EXPECT_EQ(parsed.key_id, n["current_key_id"].get<std::uint32_t>());
  EXPECT_EQ(parsed.next_key_id, n["next_key_id"].get<std::uint32_t>());
  EXPECT_EQ(parsed.next_key_in_ms, n["next_in_ms"].get<std::uint32_t>());
}

TEST(WireSpec, EveryMustRejectEntryIsRejectedWithItsOwnStatus) {
  const std::map<std::string, Status> expected = {
      {"bad-magic", Status::kc_bad_magic},
      {"bad-version", Status::kc_bad_version},
      {"zero-channel", Status::kc_zero_channel},
      {"hdr-len-not-multiple-of-4", Status::kc_bad_hdr_len},
      {"hdr-len-beyond-datagram", Status::kc_hdr_len_beyond_datagram},
      {"tlv-overruns-header", Status::kc_tlv_overrun},
      {"ts-flag-with-gcm", Status::kc_ts_with_gcm},
      {"short", Status::kc_truncated},
  };
  std::set<Status> seen;
  for (const auto& r : vectors()["must_reject"]) {
    const std::string name = r["name"].get<std::string>();
    KcHeader h;
    const Status s = parse_header(unhex(r["udp_payload"].get<std::string>()), h);
    EXPECT_NE(s, Status::ok) << name;
    if (auto it = expected.find(name); it != expected.end()) {
      EXPECT_EQ(s, it->second) << name;
    }
    EXPECT_TRUE(seen.insert(s).second) << name << " shares its status " << status_name(s);
  }
}

}  // namespace
}  // namespace keycast::conformance::wire_vectors
