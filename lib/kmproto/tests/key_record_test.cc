// KeyRecord: byte layout, round trips at every material size edge, every
// rejection, material handling and KeyRecordIterator.
#include <gtest/gtest.h>

#include "kmproto/frame_builder.h"
#include "kmproto/key_record.h"
#include "test_bytes.h"

namespace kmproto {
namespace {

using testing::Bytes;
using testing::decode_whole;
using testing::make_record;
using testing::unhex;

Bytes encode(const KeyRecord& r) {
  Bytes b(r.encoded_len());
  EXPECT_EQ(encode_key_record(r, b.data()), b.size());
  return b;
}

TEST(KeyRecord, ByteLayout) {
  KeyRecord r;
  r.channel_id = 0x01020304;
  r.key_id = 0x05060708;
  r.suite = 0x09;
  r.state = KeyState::previous;
  r.lifetime_ms = 0x0B0C0D0E;
  r.remaining_ms = 0x0F101112;
  r.not_before_ms = 0x131415161718191Aull;
  ASSERT_EQ(r.set_material(Bytes{0xAA, 0xBB, 0xCC}), Status::ok);
  EXPECT_EQ(encode(r), unhex("01020304" "05060708" "09" "03" "0003" "0b0c0d0e" "0f101112" "131415161718191a" "aabbcc"));
}

TEST(KeyRecord, RoundTripsAtEveryMaterialSizeEdge) {
  for (const std::size_t len : {std::size_t{0}, std::size_t{1}, std::size_t{16}, std::size_t{32}, kMaxKeyMaterialLen}) {
    const KeyRecord r = make_record(11, KeyState::next, len);
    const Bytes b = encode(r);
    EXPECT_EQ(b.size(), kKeyRecordFixedLen + len);
    KeyRecord back;
    ASSERT_EQ(decode_key_record(b, back), Status::ok) << len;
    EXPECT_EQ(back, r) << len;
    EXPECT_EQ(back.key_length(), len);
  }
}

TEST(KeyRecord, EveryStateDecodes) {
  for (const KeyState s : {KeyState::current, KeyState::next, KeyState::previous}) {
    KeyRecord back;
    ASSERT_EQ(decode_key_record(encode(make_record(1, s, 4)), back), Status::ok);
    EXPECT_EQ(back.state, s);
  }
}

TEST(KeyRecord, ShorterThanTheFixedFieldsIsRejected) {
  const Bytes full = encode(make_record(1, KeyState::current, 0));
  for (std::size_t n = 0; n < kKeyRecordFixedLen; ++n) {
    KeyRecord out;
    EXPECT_EQ(decode_key_record({full.data(), n}, out), Status::key_record_too_short) << n;
  }
}

TEST(KeyRecord, KeyLengthMustEqualTheMaterialPresent) {
  Bytes b = encode(make_record(1, KeyState::current, 16));
  KeyRecord out;
  b[11] = 17;
  EXPECT_EQ(decode_key_record(b, out), Status::key_record_length_mismatch);
  b[11] = 15;
  EXPECT_EQ(decode_key_record(b, out), Status::key_record_length_mismatch);
  b[11] = 16;
  b.push_back(0);
  EXPECT_EQ(decode_key_record(b, out), Status::key_record_length_mismatch) << "a trailing byte";
  b[10] = 0xFF;
  b[11] = 0xFF;
  EXPECT_EQ(decode_key_record(b, out), Status::key_record_length_mismatch);
}

TEST(KeyRecord, MaterialOver1024BytesIsRejected) {
  Bytes b = encode(make_record(1, KeyState::current, kMaxKeyMaterialLen));
  b.push_back(0x55);
  b[10] = 0x04;
  b[11] = 0x01;  // key_length 1025, and 1025 bytes present
  KeyRecord out;
  EXPECT_EQ(decode_key_record(b, out), Status::key_record_material_too_long);
}

TEST(KeyRecord, UnknownStateIsRejected) {
  Bytes b = encode(make_record(1, KeyState::current, 16));
  for (const int state : {0, 4, 0xFF}) {
    b[9] = static_cast<std::uint8_t>(state);
    KeyRecord out;
    EXPECT_EQ(decode_key_record(b, out), Status::key_record_bad_state) << state;
  }
}

TEST(KeyRecord, FailedDecodeLeavesTheRecordAsItWas) {
  const KeyRecord before = make_record(5, KeyState::next, 8);
  KeyRecord out = before;
  Bytes b = encode(make_record(6, KeyState::current, 16));
  b[11] = 3;
  EXPECT_NE(decode_key_record(b, out), Status::ok);
  EXPECT_EQ(out, before);
}

TEST(KeyRecord, SetMaterialOverTheLimitChangesNothing) {
  KeyRecord r = make_record(1, KeyState::current, 16);
  const KeyRecord before = r;
  EXPECT_EQ(r.set_material(Bytes(kMaxKeyMaterialLen + 1, 1)), Status::key_record_material_too_long);
  EXPECT_EQ(r, before);
}

TEST(KeyRecord, ShrinkingTheMaterialWipesTheBytesNoLongerUsed) {
  KeyRecord r = make_record(1, KeyState::current, 32);
  const std::uint8_t* storage = r.material().data();
  ASSERT_EQ(r.set_material(Bytes{1, 2}), Status::ok);
  for (std::size_t i = 2; i < 32; ++i) EXPECT_EQ(storage[i], 0) << i;
  EXPECT_EQ(r.key_length(), 2);
}

TEST(KeyRecord, EqualityLooksAtEveryField) {
  const KeyRecord a = make_record(1, KeyState::current, 16);
  KeyRecord b = a;
  EXPECT_EQ(a, b);
  b.not_before_ms = 1;
  EXPECT_NE(a, b);
  b = a;
  ASSERT_EQ(b.set_material(make_record(2, KeyState::current, 16).material()), Status::ok);
  EXPECT_NE(a, b);
}

TEST(KeyRecordIterator, StopsAtTheFirstRecordThatDoesNotDecode) {
  Bytes out;
  FrameBuilder fb(out);
  fb.begin(answer_of(MessageType::key_request));
  fb.add_key_record(make_record(1, KeyState::current, 16));
  fb.add_u32(ParamType::channel_id, 7);  // other parameters are passed over
  fb.add_bytes(ParamType::key_record, Bytes(27));
  fb.add_key_record(make_record(2, KeyState::next, 16));
  ASSERT_EQ(fb.finish(), Status::ok);

  KeyRecordIterator it(decode_whole(out));
  KeyRecord r;
  ASSERT_TRUE(it.next(r));
  EXPECT_EQ(r.key_id, 1u);
  EXPECT_FALSE(it.next(r));
  EXPECT_EQ(it.status(), Status::key_record_too_short);
  EXPECT_FALSE(it.next(r));
  EXPECT_EQ(r.key_id, 1u);
}

TEST(KeyRecordIterator, NoRecordsIsNotAnError) {
  const Bytes b = unhex("01800400000000");
  KeyRecordIterator it(decode_whole(b));
  KeyRecord r;
  EXPECT_FALSE(it.next(r));
  EXPECT_EQ(it.status(), Status::ok);
}

}  // namespace
}  // namespace kmproto
