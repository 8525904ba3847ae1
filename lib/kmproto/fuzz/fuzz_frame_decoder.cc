// libFuzzer target: the input as a stream of key manager frames. Each frame
// that decodes has its parameters walked, read through the typed accessors
// and its key_records decoded; rebuilt with FrameBuilder from what decoded,
// it must give back the same bytes.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "kmproto/frame.h"
#include "kmproto/frame_builder.h"
#include "kmproto/key_record.h"

namespace {

using namespace kmproto;

void check(bool ok) {
  if (!ok) std::abort();
}

// The typed accessors agree with find(): missing, wrong length or ok.
void check_accessors(const Frame& f) {
  for (std::uint16_t t = 1; t <= static_cast<std::uint16_t>(ParamType::version); ++t) {
    const auto type = static_cast<ParamType>(t);
    const auto value = f.find(type);
    const auto expect = [&](std::size_t int_size) {
      if (!value) return Status::param_missing;
      return value->size() == int_size ? Status::ok : Status::param_bad_length;
    };
    std::uint8_t v8;
    std::uint16_t v16;
    std::uint32_t v32;
    std::uint64_t v64;
    check(f.read_u8(type, v8) == expect(1));
    check(f.read_u16(type, v16) == expect(2));
    check(f.read_u32(type, v32) == expect(4));
    check(f.read_u64(type, v64) == expect(8));
  }
}

void check_frame(const Frame& f, std::span<const std::uint8_t> frame_bytes, std::vector<std::uint8_t>& out) {
  check_accessors(f);
  out.clear();
  FrameBuilder b(out);
  b.begin(f.type);
  ParamIterator it(f.params);
  for (Param p; it.next(p);) {
    KeyRecord r;
    if (p.type == ParamType::key_record && decode_key_record(p.value, r) == Status::ok) {
      b.add_key_record(r);
    } else {
      b.add_bytes(p.type, p.value);
    }
  }
  check(it.status() == Status::ok);  // the decoder let only well-formed frames through
  check(b.finish() == Status::ok);
  check(out.size() == frame_bytes.size() && std::equal(out.begin(), out.end(), frame_bytes.begin()));

  KeyRecordIterator records(f);
  for (KeyRecord r; records.next(r);) check(r.encoded_len() <= kKeyRecordFixedLen + kMaxKeyMaterialLen);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FrameDecoder dec;
  std::span<const std::uint8_t> rest(data, size);
  std::vector<std::uint8_t> out;
  for (;;) {
    Frame f;
    std::size_t consumed = 0;
    if (dec.decode(rest, f, consumed) != Status::ok) break;
    check(consumed >= kHeaderLen && consumed <= rest.size() && f.params.size() == consumed - kHeaderLen);
    check_frame(f, rest.first(consumed), out);
    rest = rest.subspan(consumed);
  }
  return 0;
}
