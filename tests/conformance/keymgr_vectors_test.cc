// Conformance with ../shared/spec/vectors/keymgr-v1.json: every frame decodes
// to the fields its name describes and FrameBuilder re-encodes those fields
// byte for byte; every must_reject entry fails with its own Status.
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "spec_vectors.h"

#include "kmproto/frame.h"
#include "kmproto/frame_builder.h"
#include "kmproto/key_record.h"

// Its own namespace: the conformance tests share one binary (and with unity
// builds, one translation unit).
namespace keycast::conformance::keymgr_vectors {
namespace {

using namespace kmproto;
using json = nlohmann::json;
using Bytes = std::vector<std::uint8_t>;

const json& vectors() {
  static const json doc = keycast::conformance::load_vectors("keymgr-v1.json");
  return doc;
}

KeyRecord record(std::uint32_t key_id, KeyState state, std::uint32_t remaining_ms, std::uint64_t not_before_ms,
                 const std::string& material_hex) {
  KeyRecord r;
  r.channel_id = 1;
  r.key_id = key_id;
  r.suite = 3;  // aes128-ctr
  r.state = state;
  r.lifetime_ms = 10000;
  r.remaining_ms = remaining_ms;
  r.not_before_ms = not_before_ms;
  EXPECT_EQ(r.set_material(unhex(material_hex)), Status::ok);
  return r;
}

const KeyRecord& current_key() {
  static const KeyRecord r = record(42, KeyState::current, 6500, 0, "000102030405060708090a0b0c0d0e0f");
  return r;
}

const KeyRecord& next_key() {
  static const KeyRecord r =
      record(43, KeyState::next, 10000, 1'764'072'006'500ull, "f0e1d2c3b4a5968778695a4b3c2d1e0f");
  return r;
}

template <typename T>
T read_int(const Frame& f, ParamType t) {
  T v{};
  Status s = Status::ok;
  if constexpr (sizeof(T) == 1) s = f.read_u8(t, v);
  if constexpr (sizeof(T) == 2) s = f.read_u16(t, v);
  if constexpr (sizeof(T) == 4) s = f.read_u32(t, v);
  if constexpr (sizeof(T) == 8) s = f.read_u64(t, v);
  EXPECT_EQ(s, Status::ok) << "parameter " << static_cast<int>(t);
  return v;
}

std::string read_str(const Frame& f, ParamType t) {
  std::string_view s;
  EXPECT_EQ(f.read_string(t, s), Status::ok) << "parameter " << static_cast<int>(t);
  return std::string(s);
}

std::vector<KeyRecord> read_records(const Frame& f) {
  std::vector<KeyRecord> out;
  KeyRecordIterator it(f);
  for (KeyRecord r; it.next(r);) out.push_back(r);
  EXPECT_EQ(it.status(), Status::ok);
  return out;
}

// What each vector's name says: its fields, as parameters in wire order.
struct Expected {
  MessageType type;
  std::function<void(FrameBuilder&)> add_params;
  std::function<void(const Frame&)> check;
};

const std::map<std::string, Expected>& expectations() {
  static const std::map<std::string, Expected> e = {
      {"hello-receiver-lab",
       {MessageType::hello,
        [](FrameBuilder& b) {
          b.add_u8(ParamType::role, static_cast<std::uint8_t>(Role::receiver));
          b.add_string(ParamType::peer_id, "rx1");
          b.add_string(ParamType::auth_token, "rx1-lab-token");
        },
        [](const Frame& f) {
          EXPECT_EQ(read_int<std::uint8_t>(f, ParamType::role), 2);
          EXPECT_EQ(read_str(f, ParamType::peer_id), "rx1");
          EXPECT_EQ(read_str(f, ParamType::auth_token), "rx1-lab-token");
        }}},
      {"hello-answer",
       {answer_of(MessageType::hello),
        [](FrameBuilder& b) { b.add_u64(ParamType::server_time_ms, 1'764'072'000'000ull); },
        [](const Frame& f) {
          EXPECT_EQ(read_int<std::uint64_t>(f, ParamType::server_time_ms), 1'764'072'000'000ull);
        }}},
      {"key-request-current-and-next",
       {MessageType::key_request, [](FrameBuilder& b) { b.add_u32(ParamType::channel_id, 1); },
        [](const Frame& f) {
          EXPECT_EQ(read_int<std::uint32_t>(f, ParamType::channel_id), 1u);
          EXPECT_FALSE(f.find(ParamType::key_id).has_value());
        }}},
      {"key-request-by-id",
       {MessageType::key_request,
        [](FrameBuilder& b) {
          b.add_u32(ParamType::channel_id, 1);
          b.add_u32(ParamType::key_id, 42);
        },
        [](const Frame& f) {
          EXPECT_EQ(read_int<std::uint32_t>(f, ParamType::channel_id), 1u);
          EXPECT_EQ(read_int<std::uint32_t>(f, ParamType::key_id), 42u);
        }}},
      {"key-request-answer",
       {answer_of(MessageType::key_request),
        [](FrameBuilder& b) {
          b.add_key_record(current_key());
          b.add_key_record(next_key());
        },
        [](const Frame& f) {
          const auto records = read_records(f);
          ASSERT_EQ(records.size(), 2u);
          EXPECT_EQ(records[0], current_key());
          EXPECT_EQ(records[1], next_key());
          EXPECT_EQ(records[0].key_length(), 16);
          EXPECT_EQ(records[1].state, KeyState::next);
        }}},
      {"key-generate",
       {MessageType::key_generate,
        [](FrameBuilder& b) {
          b.add_u32(ParamType::channel_id, 4);
          b.add_u8(ParamType::which, static_cast<std::uint8_t>(Which::next));
          b.add_u8(ParamType::suite, 2);  // xor-inv
          b.add_u16(ParamType::key_length, 64);
          b.add_u32(ParamType::lifetime_ms, 10000);
        },
        [](const Frame& f) {
          EXPECT_EQ(read_int<std::uint32_t>(f, ParamType::channel_id), 4u);
          EXPECT_EQ(read_int<std::uint8_t>(f, ParamType::which), 2);
          EXPECT_EQ(read_int<std::uint8_t>(f, ParamType::suite), 2);
          EXPECT_EQ(read_int<std::uint16_t>(f, ParamType::key_length), 64);
          EXPECT_EQ(read_int<std::uint32_t>(f, ParamType::lifetime_ms), 10000u);
        }}},
      {"usage-report",
       {MessageType::usage_report,
        [](FrameBuilder& b) {
          b.add_u32(ParamType::channel_id, 1);
          b.add_u32(ParamType::key_id, 42);
          b.add_u64(ParamType::packets, 76000);
          b.add_u64(ParamType::bytes, 100'016'000);
        },
        [](const Frame& f) {
          EXPECT_EQ(read_int<std::uint32_t>(f, ParamType::channel_id), 1u);
          EXPECT_EQ(read_int<std::uint32_t>(f, ParamType::key_id), 42u);
          EXPECT_EQ(read_int<std::uint64_t>(f, ParamType::packets), 76000u);
          EXPECT_EQ(read_int<std::uint64_t>(f, ParamType::bytes), 100'016'000u);
        }}},
      {"error-not-entitled",
       {MessageType::error,
        [](FrameBuilder& b) {
          b.add_u16(ParamType::error_code, static_cast<std::uint16_t>(ErrorCode::not_entitled));
          b.add_string(ParamType::error_text, "peer rx2 is not entitled to channel 1");
        },
        [](const Frame& f) {
          const auto code = static_cast<ErrorCode>(read_int<std::uint16_t>(f, ParamType::error_code));
          EXPECT_STREQ(error_code_name(code), "not_entitled");
          EXPECT_EQ(read_str(f, ParamType::error_text), "peer rx2 is not entitled to channel 1");
        }}},
  };
  return e;
}

class KeymgrFrame : public ::testing::TestWithParam<std::size_t> {
 protected:
  const json& v() const { return vectors()["frames"][GetParam()]; }
  std::string name() const { return v()["name"].get<std::string>(); }
  Bytes bytes() const { return unhex(v()["hex"].get<std::string>()); }
  const Expected* expected() const {
    const auto it = expectations().find(name());
    return it == expectations().end() ? nullptr : &it->second;
  }
};

TEST_P(KeymgrFrame, DecodesAsItsNameSays) {
  const Expected* e = expected();
  ASSERT_NE(e, nullptr) << "no expectation written for vector " << name();
  const Bytes b = bytes();
  FrameDecoder dec;
  Frame f;
  std::size_t consumed = 0;
  ASSERT_EQ(dec.decode(b, f, consumed), Status::ok) << name();
  EXPECT_EQ(consumed, b.size());
  EXPECT_EQ(f.type, e->type);
  e->check(f);
}

TEST_P(KeymgrFrame, ReencodesByteForByte) {
  const Expected* e = expected();
  ASSERT_NE(e, nullptr) << "no expectation written for vector " << name();
  Bytes out;
  FrameBuilder b(out);
  b.begin(e->type);
  e->add_params(b);
  ASSERT_EQ(b.finish(), Status::ok);
  EXPECT_EQ(out, bytes()) << name();
}

std::vector<std::size_t> frame_indices() {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < vectors()["frames"].size(); ++i) out.push_back(i);
  return out;
}

INSTANTIATE_TEST_SUITE_P(Spec, KeymgrFrame, ::testing::ValuesIn(frame_indices()),
                         [](const ::testing::TestParamInfo<std::size_t>& p) {
                           std::string n = vectors()["frames"][p.param]["name"].get<std::string>();
                           for (auto& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(KeymgrSpec, HasVectors) {
  EXPECT_GE(vectors()["frames"].size(), 8u);
  EXPECT_GE(vectors()["must_reject"].size(), 4u);
}

TEST(KeymgrSpec, AllFramesDecodeAsOnePipelinedStream) {
  Bytes stream;
  for (const auto& v : vectors()["frames"]) {
    const Bytes b = unhex(v["hex"].get<std::string>());
    stream.insert(stream.end(), b.begin(), b.end());
  }
  FrameDecoder dec;
  std::span<const std::uint8_t> rest(stream);
  std::size_t frames = 0;
  for (;;) {
    Frame f;
    std::size_t consumed = 0;
    const Status s = dec.decode(rest, f, consumed);
    if (s == Status::need_more) break;
    ASSERT_EQ(s, Status::ok) << "frame " << frames;
    rest = rest.subspan(consumed);
    ++frames;
  }
  EXPECT_TRUE(rest.empty());
  EXPECT_EQ(frames, vectors()["frames"].size());
}

TEST(KeymgrSpec, EveryMustRejectEntryIsRejectedWithItsOwnStatus) {
  const std::map<std::string, Status> expected = {
      {"wrong-version", Status::bad_version},
      {"length-over-limit", Status::length_over_limit},
      {"parameter-overruns-frame", Status::param_overruns_frame},
      {"truncated-parameter-header", Status::param_header_truncated},
  };
  std::set<Status> seen;
  for (const auto& r : vectors()["must_reject"]) {
    const std::string name = r["name"].get<std::string>();
    FrameDecoder dec;
    Frame f;
    std::size_t consumed = 0;
    const Status s = dec.decode(unhex(r["hex"].get<std::string>()), f, consumed);
    EXPECT_NE(s, Status::ok) << name;
    EXPECT_NE(s, Status::need_more) << name << " must be rejected from the bytes given";
    if (auto it = expected.find(name); it != expected.end()) {
      EXPECT_EQ(s, it->second) << name;
    }
    EXPECT_TRUE(seen.insert(s).second) << name << " shares its status " << status_name(s);
  }
}

}  // namespace
}  // namespace keycast::conformance::keymgr_vectors
