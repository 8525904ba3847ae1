// FrameDecoder on a byte stream (split anywhere, pipelined), every malformed
// frame, unknown parameters, ParamIterator and the typed accessors.
#include <gtest/gtest.h>

#include <string_view>

#include "kmproto/frame.h"
#include "test_bytes.h"

namespace kmproto {
namespace {

using testing::Bytes;
using testing::decode_whole;
using testing::unhex;

struct Decoded {
  MessageType type;
  Bytes params;
  bool operator==(const Decoded&) const = default;
};

// Three frames back to back: HELLO, an empty KEY_PUSH answer, KEY_REQUEST.
const Bytes& three_frames() {
  static const Bytes b = unhex(
      "0100010000001d0001000102000200037278310003000d7278312d6c61622d746f6b656e"
      "01800400000000"
      "010002000000100004000400000001000500040000002a");
  return b;
}

const std::vector<Decoded>& three_frames_decoded() {
  static const std::vector<Decoded> d = {
      {MessageType::hello, unhex("0001000102000200037278310003000d7278312d6c61622d746f6b656e")},
      {answer_of(MessageType::key_push), {}},
      {MessageType::key_request, unhex("0004000400000001000500040000002a")},
  };
  return d;
}

// Decodes every whole frame at the front of pending, removing what it used.
void drain(FrameDecoder& dec, Bytes& pending, std::vector<Decoded>& out) {
  for (;;) {
    Frame f;
    std::size_t consumed = 99;
    const Status s = dec.decode(pending, f, consumed);
    if (s == Status::need_more) {
      EXPECT_EQ(consumed, 0u);
      return;
    }
    ASSERT_EQ(s, Status::ok);
    out.push_back({f.type, Bytes(f.params.begin(), f.params.end())});
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(consumed));
  }
}

TEST(FrameDecoder, EveryPrefixOfAFrameNeedsMore) {
  const Bytes frame = unhex("010002000000100004000400000001000500040000002a");
  for (std::size_t n = 0; n < frame.size(); ++n) {
    FrameDecoder dec;
    Frame f;
    std::size_t consumed = 99;
    EXPECT_EQ(dec.decode({frame.data(), n}, f, consumed), Status::need_more) << n << " bytes";
    EXPECT_EQ(consumed, 0u);
  }
}

TEST(FrameDecoder, StreamSplitAtEveryPointDecodesTheSameFrames) {
  const Bytes& stream = three_frames();
  for (std::size_t split = 0; split <= stream.size(); ++split) {
    FrameDecoder dec;
    Bytes pending(stream.begin(), stream.begin() + static_cast<std::ptrdiff_t>(split));
    std::vector<Decoded> got;
    drain(dec, pending, got);
    pending.insert(pending.end(), stream.begin() + static_cast<std::ptrdiff_t>(split), stream.end());
    drain(dec, pending, got);
    EXPECT_EQ(got, three_frames_decoded()) << "split at " << split;
    EXPECT_TRUE(pending.empty());
  }
}

TEST(FrameDecoder, StreamFedOneByteAtATime) {
  FrameDecoder dec;
  Bytes pending;
  std::vector<Decoded> got;
  for (const std::uint8_t byte : three_frames()) {
    pending.push_back(byte);
    drain(dec, pending, got);
  }
  EXPECT_EQ(got, three_frames_decoded());
}

TEST(FrameDecoder, PipelinedFramesInOneBuffer) {
  const Bytes& stream = three_frames();
  FrameDecoder dec;
  std::span<const std::uint8_t> rest(stream);
  const std::size_t sizes[] = {36, 7, 23};
  for (std::size_t i = 0; i < 3; ++i) {
    Frame f;
    std::size_t consumed = 0;
    ASSERT_EQ(dec.decode(rest, f, consumed), Status::ok) << i;
    EXPECT_EQ(consumed, sizes[i]);
    EXPECT_EQ(f.type, three_frames_decoded()[i].type);
    EXPECT_EQ(f.params.data(), rest.data() + kHeaderLen) << "params point into the buffer";
    rest = rest.subspan(consumed);
  }
  Frame f;
  std::size_t consumed = 99;
  EXPECT_EQ(dec.decode(rest, f, consumed), Status::need_more);
  EXPECT_EQ(consumed, 0u);
}

Status decode_status(const Bytes& b) {
  FrameDecoder dec;
  Frame f;
  std::size_t consumed = 99;
  const Status s = dec.decode(b, f, consumed);
  if (s != Status::ok) {
    EXPECT_EQ(consumed, 0u);
  }
  return s;
}

TEST(FrameDecoder, BadVersionIsSeenInTheFirstByte) {
  EXPECT_EQ(decode_status(unhex("00")), Status::bad_version);
  EXPECT_EQ(decode_status(unhex("02")), Status::bad_version);
  EXPECT_EQ(decode_status(unhex("ff00010000000000")), Status::bad_version);
  EXPECT_EQ(decode_status(unhex("02000100000000")), Status::bad_version);
}

TEST(FrameDecoder, LengthOverLimitIsSeenInTheHeader) {
  EXPECT_EQ(decode_status(unhex("01000200010001")), Status::length_over_limit);
  EXPECT_EQ(decode_status(unhex("010002ffffffff")), Status::length_over_limit);
  EXPECT_EQ(decode_status(unhex("0100020100000000")), Status::length_over_limit);
  EXPECT_EQ(decode_status(unhex("01000200010000")), Status::need_more) << "65536 is allowed";
}

TEST(FrameDecoder, ParameterOverrunningTheFrame) {
  EXPECT_EQ(decode_status(unhex("0100020000000400040009")), Status::param_overruns_frame);
  EXPECT_EQ(decode_status(unhex("010002000000070004000400000001")), Status::param_overruns_frame)
      << "value one byte short";
  // The bytes after the frame are the next frame's, not this parameter's.
  EXPECT_EQ(decode_status(unhex("010002000000070004000400000001" "01")), Status::param_overruns_frame);
  EXPECT_EQ(decode_status(unhex("0100020000000f" "000400040000000100050004000000")),
            Status::param_overruns_frame)
      << "second parameter";
}

TEST(FrameDecoder, TruncatedParameterHeader) {
  EXPECT_EQ(decode_status(unhex("010002000000020004")), Status::param_header_truncated);
  EXPECT_EQ(decode_status(unhex("01000200000001" "00")), Status::param_header_truncated);
  EXPECT_EQ(decode_status(unhex("01000200000003" "000400")), Status::param_header_truncated);
  EXPECT_EQ(decode_status(unhex("0100020000000a" "00040000" "000500040000")), Status::param_overruns_frame);
  EXPECT_EQ(decode_status(unhex("01000200000007" "00040000" "000500")), Status::param_header_truncated);
}

TEST(FrameDecoder, ErrorsStickBecauseFramingIsLost) {
  const Bytes stream = unhex("01800400000000" "02000100000000" "01800400000000");
  FrameDecoder dec;
  Frame f;
  std::size_t consumed = 0;
  ASSERT_EQ(dec.decode(stream, f, consumed), Status::ok);
  const auto rest = std::span(stream).subspan(consumed);
  EXPECT_EQ(dec.decode(rest, f, consumed), Status::bad_version);
  EXPECT_EQ(dec.decode(rest.subspan(7), f, consumed), Status::bad_version);
  EXPECT_EQ(consumed, 0u);
}

TEST(FrameDecoder, NeedMoreDoesNotStick) {
  const Bytes frame = unhex("01800400000000");
  FrameDecoder dec;
  Frame f;
  std::size_t consumed = 0;
  EXPECT_EQ(dec.decode({frame.data(), 3}, f, consumed), Status::need_more);
  EXPECT_EQ(dec.decode(frame, f, consumed), Status::ok);
}

TEST(FrameDecoder, UnknownMessageTypesAndParametersPassThrough) {
  // Type 0x1234; parameters 0x7777 (3 bytes), channel_id, 0xFFFF (empty).
  const Bytes b = unhex("01123400000013" "777700036162630004000400000007" "ffff0000");
  ASSERT_EQ(b.size(), 7u + 19u);
  const Frame f = decode_whole(b);
  EXPECT_EQ(static_cast<std::uint16_t>(f.type), 0x1234);
  std::uint32_t channel = 0;
  EXPECT_EQ(f.read_u32(ParamType::channel_id, channel), Status::ok);
  EXPECT_EQ(channel, 7u);

  ParamIterator it(f.params);
  std::vector<std::uint16_t> types;
  for (Param p; it.next(p);) types.push_back(static_cast<std::uint16_t>(p.type));
  EXPECT_EQ(it.status(), Status::ok);
  EXPECT_EQ(types, (std::vector<std::uint16_t>{0x7777, 0x0004, 0xFFFF}));
}

TEST(ParamIterator, ReportsOverrunsOnRawBytes) {
  const Bytes good_then_overrun = unhex("000100010200020005616263");
  ParamIterator it(good_then_overrun);
  Param p;
  ASSERT_TRUE(it.next(p));
  EXPECT_EQ(p.type, ParamType::role);
  EXPECT_FALSE(it.next(p));
  EXPECT_EQ(it.status(), Status::param_overruns_frame);
  EXPECT_FALSE(it.next(p)) << "stays at the end";

  const Bytes short_header = unhex("00010001020002");
  ParamIterator it2(short_header, ParamType::peer_id);
  EXPECT_FALSE(it2.next(p));
  EXPECT_EQ(it2.status(), Status::param_header_truncated);

  ParamIterator empty{std::span<const std::uint8_t>{}};
  EXPECT_FALSE(empty.next(p));
  EXPECT_EQ(empty.status(), Status::ok);
}

TEST(Frame, FindReturnsTheFirstOfRepeatedParameters) {
  const Bytes b = unhex("01000400000013" "000c000161" "000c000162" "000c0000" "00010001" "03");
  const Frame f = decode_whole(b);
  std::string_view s;
  ASSERT_EQ(f.read_string(ParamType::error_text, s), Status::ok);
  EXPECT_EQ(s, "a");
  ParamIterator all = f.all(ParamType::error_text);
  std::vector<std::string> texts;
  for (Param p; all.next(p);) texts.emplace_back(p.value.begin(), p.value.end());
  EXPECT_EQ(texts, (std::vector<std::string>{"a", "b", ""}));
  EXPECT_FALSE(f.find(ParamType::peer_id).has_value());
  ASSERT_TRUE(f.find(ParamType::role).has_value());
  EXPECT_EQ(f.find(ParamType::role)->size(), 1u);
}

TEST(Frame, IntegerParametersMustHaveTheirExactLength) {
  // channel_id with 3 bytes, key_id with 5, role with 0, server_time_ms with 4.
  const Bytes b = unhex("0100020000001c" "0004000300000700050005000000002a00010000000d000400000001");
  const Frame f = decode_whole(b);
  std::uint32_t v32 = 0;
  std::uint8_t v8 = 0;
  std::uint64_t v64 = 0;
  std::uint16_t v16 = 0;
  EXPECT_EQ(f.read_u32(ParamType::channel_id, v32), Status::param_bad_length);
  EXPECT_EQ(f.read_u32(ParamType::key_id, v32), Status::param_bad_length);
  EXPECT_EQ(f.read_u8(ParamType::role, v8), Status::param_bad_length);
  EXPECT_EQ(f.read_u64(ParamType::server_time_ms, v64), Status::param_bad_length);
  EXPECT_EQ(f.read_u16(ParamType::key_length, v16), Status::param_missing);
  EXPECT_EQ(v32, 0u) << "out untouched on error";
}

TEST(Frame, MissingBytesAndStrings) {
  const Bytes b = unhex("01000800000000");
  const Frame f = decode_whole(b);
  std::span<const std::uint8_t> bytes;
  std::string_view s;
  EXPECT_EQ(f.read_bytes(ParamType::auth_token, bytes), Status::param_missing);
  EXPECT_EQ(f.read_string(ParamType::peer_id, s), Status::param_missing);
}

TEST(Statuses, DistinctNamesAndTexts) {
  EXPECT_STREQ(status_name(Status::param_overruns_frame), "param_overruns_frame");
  EXPECT_STREQ(status_name(static_cast<Status>(kStatusCount)), "unknown");
  EXPECT_STRNE(status_text(Status::bad_version), status_text(Status::length_over_limit));
}

}  // namespace
}  // namespace kmproto
