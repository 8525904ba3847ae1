// FrameBuilder: every message type of keymgr-protocol.md section 3 builds,
// decodes back to what was put in, and the builder's own errors.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "kmproto/frame_builder.h"
#include "test_bytes.h"

namespace kmproto {
namespace {

using testing::Bytes;
using testing::decode_whole;
using testing::make_record;

template <typename Fill>
Bytes build(MessageType type, Fill fill) {
  Bytes out;
  FrameBuilder b(out);
  b.begin(type);
  fill(b);
  EXPECT_EQ(b.finish(), Status::ok);
  return out;
}

std::string str(const Frame& f, ParamType t) {
  std::string_view s;
  EXPECT_EQ(f.read_string(t, s), Status::ok);
  return std::string(s);
}

std::uint64_t u64(const Frame& f, ParamType t) {
  std::uint64_t v = 0;
  EXPECT_EQ(f.read_u64(t, v), Status::ok);
  return v;
}

std::uint32_t u32(const Frame& f, ParamType t) {
  std::uint32_t v = 0;
  EXPECT_EQ(f.read_u32(t, v), Status::ok);
  return v;
}

std::uint8_t u8(const Frame& f, ParamType t) {
  std::uint8_t v = 0;
  EXPECT_EQ(f.read_u8(t, v), Status::ok);
  return v;
}

std::vector<KeyRecord> records(const Frame& f) {
  std::vector<KeyRecord> out;
  KeyRecordIterator it(f);
  for (KeyRecord r; it.next(r);) out.push_back(r);
  EXPECT_EQ(it.status(), Status::ok);
  return out;
}

TEST(FrameBuilder, EmptyFrameIsJustTheHeader) {
  const Bytes b = build(answer_of(MessageType::key_push), [](FrameBuilder&) {});
  EXPECT_EQ(b, testing::unhex("01800400000000"));
  const Frame f = decode_whole(b);
  EXPECT_EQ(f.type, answer_of(MessageType::key_push));
  EXPECT_TRUE(f.params.empty());
}

TEST(FrameBuilder, Hello) {
  const Bytes b = build(MessageType::hello, [](FrameBuilder& fb) {
    fb.add_u8(ParamType::role, static_cast<std::uint8_t>(Role::gateway));
    fb.add_string(ParamType::peer_id, "gw1");
    fb.add_bytes(ParamType::auth_token, Bytes{0x00, 0xFF, 0x10});
  });
  const Frame f = decode_whole(b);
  EXPECT_EQ(f.type, MessageType::hello);
  EXPECT_EQ(u8(f, ParamType::role), static_cast<std::uint8_t>(Role::gateway));
  EXPECT_EQ(str(f, ParamType::peer_id), "gw1");
  std::span<const std::uint8_t> token;
  ASSERT_EQ(f.read_bytes(ParamType::auth_token, token), Status::ok);
  EXPECT_EQ(Bytes(token.begin(), token.end()), (Bytes{0x00, 0xFF, 0x10}));
}

TEST(FrameBuilder, HelloAnswer) {
  const Bytes f_bytes = build(answer_of(MessageType::hello), [](FrameBuilder& fb) {
    fb.add_u64(ParamType::server_time_ms, 1'763'000'000'123ull);
  });
  const Frame f = decode_whole(f_bytes);
  EXPECT_EQ(f.type, answer_of(MessageType::hello));
  EXPECT_EQ(u64(f, ParamType::server_time_ms), 1'763'000'000'123ull);
}

TEST(FrameBuilder, KeyRequestAndAnswer) {
  const Bytes req_bytes = build(MessageType::key_request, [](FrameBuilder& fb) {
    fb.add_u32(ParamType::channel_id, 7);
    fb.add_u32(ParamType::key_id, 0xFFFFFFFF);
  });
  const Frame req = decode_whole(req_bytes);
  EXPECT_EQ(req.type, MessageType::key_request);
  EXPECT_EQ(u32(req, ParamType::channel_id), 7u);
  EXPECT_EQ(u32(req, ParamType::key_id), 0xFFFFFFFFu);

  const KeyRecord cur = make_record(1, KeyState::current, 16);
  const KeyRecord next = make_record(2, KeyState::next, 32);
  const Bytes ans_bytes = build(answer_of(MessageType::key_request), [&](FrameBuilder& fb) {
    fb.add_key_record(cur);
    fb.add_key_record(next);
  });
  const Frame ans = decode_whole(ans_bytes);
  EXPECT_EQ(ans.type, answer_of(MessageType::key_request));
  EXPECT_EQ(records(ans), (std::vector<KeyRecord>{cur, next}));
}

TEST(FrameBuilder, KeyGenerateAndAnswer) {
  const Bytes req_bytes = build(MessageType::key_generate, [](FrameBuilder& fb) {
    fb.add_u32(ParamType::channel_id, 4);
    fb.add_u8(ParamType::which, static_cast<std::uint8_t>(Which::next));
    fb.add_u8(ParamType::suite, 2);
    fb.add_u16(ParamType::key_length, 64);
    fb.add_u32(ParamType::lifetime_ms, 10000);
  });
  const Frame req = decode_whole(req_bytes);
  EXPECT_EQ(req.type, MessageType::key_generate);
  EXPECT_EQ(u32(req, ParamType::channel_id), 4u);
  EXPECT_EQ(u8(req, ParamType::which), static_cast<std::uint8_t>(Which::next));
  EXPECT_EQ(u8(req, ParamType::suite), 2);
  std::uint16_t key_length = 0;
  EXPECT_EQ(req.read_u16(ParamType::key_length, key_length), Status::ok);
  EXPECT_EQ(key_length, 64);
  EXPECT_EQ(u32(req, ParamType::lifetime_ms), 10000u);

  const KeyRecord made = make_record(9, KeyState::next, 64);
  const Bytes ans_bytes = build(answer_of(MessageType::key_generate), [&](FrameBuilder& fb) { fb.add_key_record(made); });
  const Frame ans = decode_whole(ans_bytes);
  EXPECT_EQ(records(ans), std::vector<KeyRecord>{made});
}

TEST(FrameBuilder, KeyPushAndAnswer) {
  const std::vector<KeyRecord> pushed = {make_record(1, KeyState::previous, 1),
                                         make_record(2, KeyState::current, 1024),
                                         make_record(3, KeyState::next, 0)};
  const Bytes req_bytes = build(MessageType::key_push, [&](FrameBuilder& fb) {
    for (const auto& r : pushed) fb.add_key_record(r);
  });
  const Frame req = decode_whole(req_bytes);
  EXPECT_EQ(req.type, MessageType::key_push);
  EXPECT_EQ(records(req), pushed);
  const Bytes ans_bytes = build(answer_of(MessageType::key_push), [](FrameBuilder&) {});
  const Frame ans = decode_whole(ans_bytes);
  EXPECT_EQ(ans.type, answer_of(MessageType::key_push));
}

TEST(FrameBuilder, SubscribeAndAnswer) {
  const Bytes req_bytes = build(MessageType::subscribe, [](FrameBuilder& fb) { fb.add_u64(ParamType::since_version, 0); });
  const Frame req = decode_whole(req_bytes);
  EXPECT_EQ(req.type, MessageType::subscribe);
  EXPECT_EQ(u64(req, ParamType::since_version), 0u);
  const Bytes ans_bytes = build(answer_of(MessageType::subscribe), [](FrameBuilder&) {});
  const Frame ans = decode_whole(ans_bytes);
  EXPECT_EQ(ans.type, answer_of(MessageType::subscribe));
}

TEST(FrameBuilder, KeyDelivery) {
  const KeyRecord r = make_record(5, KeyState::current, 16);
  const Bytes f_bytes = build(MessageType::key_delivery, [&](FrameBuilder& fb) {
    fb.add_u64(ParamType::version, 0x0102030405060708ull);
    fb.add_key_record(r);
  });
  const Frame f = decode_whole(f_bytes);
  EXPECT_EQ(f.type, MessageType::key_delivery);
  EXPECT_EQ(u64(f, ParamType::version), 0x0102030405060708ull);
  EXPECT_EQ(records(f), std::vector<KeyRecord>{r});
}

TEST(FrameBuilder, UsageReportAndAnswer) {
  const Bytes req_bytes = build(MessageType::usage_report, [](FrameBuilder& fb) {
    fb.add_u32(ParamType::channel_id, 1);
    fb.add_u32(ParamType::key_id, 42);
    fb.add_u64(ParamType::packets, 76000);
    fb.add_u64(ParamType::bytes, 0xFFFFFFFFFFFFFFFFull);
  });
  const Frame req = decode_whole(req_bytes);
  EXPECT_EQ(req.type, MessageType::usage_report);
  EXPECT_EQ(u32(req, ParamType::channel_id), 1u);
  EXPECT_EQ(u32(req, ParamType::key_id), 42u);
  EXPECT_EQ(u64(req, ParamType::packets), 76000u);
  EXPECT_EQ(u64(req, ParamType::bytes), 0xFFFFFFFFFFFFFFFFull);
  const Bytes ans_bytes = build(answer_of(MessageType::usage_report), [](FrameBuilder&) {});
  const Frame ans = decode_whole(ans_bytes);
  EXPECT_EQ(ans.type, answer_of(MessageType::usage_report));
}

TEST(FrameBuilder, HeartbeatWithAndWithoutTime) {
  const Bytes with_bytes = build(MessageType::heartbeat, [](FrameBuilder& fb) { fb.add_u64(ParamType::server_time_ms, 5); });
  const Frame with = decode_whole(with_bytes);
  EXPECT_EQ(with.type, MessageType::heartbeat);
  EXPECT_EQ(u64(with, ParamType::server_time_ms), 5u);
  const Bytes without_bytes = build(MessageType::heartbeat, [](FrameBuilder&) {});
  const Frame without = decode_whole(without_bytes);
  std::uint64_t t = 0;
  EXPECT_EQ(without.read_u64(ParamType::server_time_ms, t), Status::param_missing);
}

TEST(FrameBuilder, Error) {
  const Bytes f_bytes = build(MessageType::error, [](FrameBuilder& fb) {
    fb.add_u16(ParamType::error_code, static_cast<std::uint16_t>(ErrorCode::not_master));
    fb.add_string(ParamType::error_text, "replica");
  });
  const Frame f = decode_whole(f_bytes);
  EXPECT_EQ(f.type, MessageType::error);
  EXPECT_FALSE(is_answer(f.type));
  std::uint16_t code = 0;
  ASSERT_EQ(f.read_u16(ParamType::error_code, code), Status::ok);
  EXPECT_STREQ(error_code_name(static_cast<ErrorCode>(code)), "not_master");
  EXPECT_EQ(str(f, ParamType::error_text), "replica");
}

TEST(FrameBuilder, AppendsFramesOneAfterAnother) {
  Bytes out = {0xAA};
  FrameBuilder b(out);
  b.begin(MessageType::heartbeat);
  ASSERT_EQ(b.finish(), Status::ok);
  b.begin(MessageType::subscribe);
  b.add_u64(ParamType::since_version, 1);
  ASSERT_EQ(b.finish(), Status::ok);
  EXPECT_EQ(out, testing::unhex("aa" "01000800000000" "0100050000000c" "0010000800000000" "00000001"));
}

TEST(FrameBuilder, BeginDropsAnUnfinishedFrame) {
  Bytes out;
  FrameBuilder b(out);
  b.begin(MessageType::hello);
  b.add_u8(ParamType::role, 1);
  b.begin(MessageType::heartbeat);
  ASSERT_EQ(b.finish(), Status::ok);
  EXPECT_EQ(out, testing::unhex("01000800000000"));
}

TEST(FrameBuilder, LongestParameterFillsTheFrame) {
  const std::size_t longest = kMaxMessageLength - kParamHeaderLen;
  Bytes out;
  FrameBuilder b(out);
  b.begin(MessageType::error);
  b.add_bytes(ParamType::error_text, Bytes(longest, 'x'));
  ASSERT_EQ(b.finish(), Status::ok);
  EXPECT_EQ(out.size(), kHeaderLen + kMaxMessageLength);

  b.begin(MessageType::error);
  b.add_bytes(ParamType::error_text, Bytes(longest + 1, 'x'));
  EXPECT_EQ(b.finish(), Status::frame_too_long);
  b.begin(MessageType::error);
  b.add_bytes(ParamType::error_text, Bytes(0x10000, 'x'));
  EXPECT_EQ(b.finish(), Status::frame_too_long) << "longer than the 16-bit length field";
  EXPECT_EQ(out.size(), kHeaderLen + kMaxMessageLength) << "failed frames are removed";
}

TEST(FrameBuilder, MessageLengthOf65536FitsAndOneMoreDoesNot) {
  // Two parameters of 4 + 32764 bytes: message_length 65536.
  Bytes out;
  FrameBuilder b(out);
  b.begin(MessageType::key_push);
  b.add_bytes(ParamType::auth_token, Bytes(32764));
  b.add_bytes(ParamType::auth_token, Bytes(32764));
  ASSERT_EQ(b.finish(), Status::ok);
  const Frame f = decode_whole(out);
  EXPECT_EQ(f.params.size(), kMaxMessageLength);

  out.clear();
  b.begin(MessageType::key_push);
  b.add_bytes(ParamType::auth_token, Bytes(32764));
  b.add_bytes(ParamType::auth_token, Bytes(32765));
  b.add_u8(ParamType::role, 1);  // errors stick: later parameters change nothing
  EXPECT_EQ(b.finish(), Status::frame_too_long);
  EXPECT_TRUE(out.empty());
}

TEST(FrameBuilder, AddOrFinishWithoutBegin) {
  Bytes out;
  FrameBuilder b(out);
  EXPECT_EQ(b.finish(), Status::frame_not_begun);
  b.add_u8(ParamType::role, 1);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(b.finish(), Status::frame_not_begun);
  b.begin(MessageType::heartbeat);
  ASSERT_EQ(b.finish(), Status::ok);
  EXPECT_EQ(b.finish(), Status::frame_not_begun) << "finish() closes the frame";
}

TEST(MessageTypes, AnswerBit) {
  EXPECT_FALSE(is_answer(MessageType::hello));
  EXPECT_TRUE(is_answer(answer_of(MessageType::hello)));
  EXPECT_EQ(static_cast<std::uint16_t>(answer_of(MessageType::usage_report)), 0x8007);
  EXPECT_EQ(request_of(answer_of(MessageType::key_generate)), MessageType::key_generate);
}

TEST(ErrorCodes, NamesAsInTheSpec) {
  EXPECT_STREQ(error_code_name(ErrorCode::bad_message), "bad_message");
  EXPECT_STREQ(error_code_name(ErrorCode::unauthenticated), "unauthenticated");
  EXPECT_STREQ(error_code_name(ErrorCode::internal), "internal");
  EXPECT_EQ(static_cast<std::uint16_t>(ErrorCode::internal), 9);
  EXPECT_STREQ(error_code_name(static_cast<ErrorCode>(10)), "unknown");
  EXPECT_STREQ(error_code_name(static_cast<ErrorCode>(0)), "unknown");
}

}  // namespace
}  // namespace kmproto
