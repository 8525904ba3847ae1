// libFuzzer target: differential test of every fastxor implementation the CPU
// supports against scalar and against the keystream's definition. The input
// chooses the kernel (pattern, xor-inv pattern, keystream), the pattern
// length (1..1024, 1..512 inverting) and a seed of its bytes, the start
// position, the buffer's distance from a 64-byte boundary, the length, and
// where the buffer is cut into pieces that continue one keystream; the rest
// is the data. No byte outside the buffer may change.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <new>
#include <vector>

#include "fastxor/fastxor.h"
#include "fastxor/impl.h"
#include "fuzz_input.h"

namespace {

using Bytes = std::vector<std::uint8_t>;

void check(bool ok) {
  if (!ok) std::abort();
}

// n bytes at `offset` past a 64-byte boundary, the block ending right after
// them (ASan sees an overrun) and the bytes before them a known fill.
class PlacedBuffer {
 public:
  static constexpr std::uint8_t kFill = 0xA5;

  PlacedBuffer(const Bytes& content, std::size_t offset)
      : offset_(offset), size_(content.size()),
        block_(static_cast<std::uint8_t*>(::operator new(offset + size_ + 1, std::align_val_t{64}))) {
    std::memset(block_, kFill, offset_);
    if (size_) std::memcpy(data(), content.data(), size_);
  }
  ~PlacedBuffer() { ::operator delete(block_, std::align_val_t{64}); }
  PlacedBuffer(const PlacedBuffer&) = delete;
  PlacedBuffer& operator=(const PlacedBuffer&) = delete;

  std::uint8_t* data() { return block_ + offset_; }
  // Holds `want` and the bytes in front are untouched.
  bool holds(const Bytes& want) const {
    for (std::size_t i = 0; i < offset_; ++i)
      if (block_[i] != kFill) return false;
    return size_ == 0 || std::memcmp(block_ + offset_, want.data(), size_) == 0;
  }

 private:
  std::size_t offset_;
  std::size_t size_;
  std::uint8_t* block_;
};

// n data bytes: the input's rest, repeated, or a counter when it is empty.
Bytes make_data(std::span<const std::uint8_t> src, std::size_t n) {
  Bytes d(n);
  for (std::size_t i = 0; i < n; ++i)
    d[i] = src.empty() ? static_cast<std::uint8_t>(i * 37 + 11) : static_cast<std::uint8_t>(src[i % src.size()] + i / src.size());
  return d;
}

void fuzz_pattern(FuzzInput& in, bool inverting) {
  const std::size_t max_len = inverting ? fastxor::kMaxInvertingPatternLen : fastxor::kMaxPatternLen;
  const auto len = static_cast<std::size_t>(in.range(1, max_len));
  const std::uint8_t seed = static_cast<std::uint8_t>(in.range(0, 255));
  Bytes p(len);
  for (std::size_t i = 0; i < len; ++i) p[i] = static_cast<std::uint8_t>(seed * 131 + i * 29 + (i >> 8));
  fastxor::Pattern pat;
  check(inverting ? pat.assign_inverting(p) : pat.assign(p));
  check(pat.length() == (inverting ? 2 * len : len) && pat.period() % pat.length() == 0);

  const std::uint64_t stream_index = in.range(0, UINT32_MAX);
  const std::size_t pos = pat.position(stream_index);
  const auto offset = static_cast<std::size_t>(in.range(0, 63));
  const auto n = static_cast<std::size_t>(in.range(0, 4 * fastxor::kMaxPatternLen + 64));
  std::size_t cuts[3];
  for (auto& c : cuts) c = static_cast<std::size_t>(in.range(0, n));
  std::sort(std::begin(cuts), std::end(cuts));
  const Bytes data = make_data(in.rest(), n);

  // The definition: K[i] = P[i mod L], inverted on odd runs of L for xor-inv.
  Bytes want = data;
  for (std::size_t k = 0; k < n; ++k) {
    const std::uint64_t i = stream_index + k;
    const std::uint8_t inv = inverting && (i / len) % 2 == 1 ? 0xFF : 0x00;
    want[k] = static_cast<std::uint8_t>(want[k] ^ p[i % len] ^ inv);
  }
  const std::size_t end_pos = (pos + n) % pat.period();

  for (const auto& impl : fastxor::impl::all()) {
    if (!impl.supported()) continue;
    PlacedBuffer buf(data, offset);
    std::size_t at = pos;
    std::size_t from = 0;
    for (const std::size_t to : {cuts[0], cuts[1], cuts[2], n}) {
      at = impl.xor_pattern(buf.data() + from, to - from, pat, at);
      check(at < pat.period());
      from = to;
    }
    check(at == end_pos && buf.holds(want));
  }
  // The dispatched symbol reduces any position itself.
  PlacedBuffer buf(data, offset);
  check(fastxor::xor_pattern(buf.data(), n, pat, pos + pat.period() * (stream_index & 7)) == end_pos &&
        buf.holds(want));
}

void fuzz_keystream(FuzzInput& in) {
  const auto offset = static_cast<std::size_t>(in.range(0, 63));
  const auto ks_offset = static_cast<std::size_t>(in.range(0, 63));
  const bool in_place = in.flag();  // ks == buf: the result is all zeros
  const auto n = static_cast<std::size_t>(in.range(0, 4096 + 64));
  const auto rest = in.rest();
  const Bytes data = make_data(rest.first(rest.size() / 2), n);
  const Bytes ks_bytes = make_data(rest.subspan(rest.size() / 2), n);

  Bytes want(n, 0);
  if (!in_place)
    for (std::size_t k = 0; k < n; ++k) want[k] = static_cast<std::uint8_t>(data[k] ^ ks_bytes[k]);

  for (const auto& impl : fastxor::impl::all()) {
    if (!impl.supported()) continue;
    PlacedBuffer buf(data, offset);
    PlacedBuffer ks(ks_bytes, ks_offset);
    impl.xor_keystream(buf.data(), in_place ? buf.data() : ks.data(), n);
    check(buf.holds(want) && ks.holds(ks_bytes));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzInput in(data, size);
  switch (in.range(0, 2)) {
    case 0:
      fuzz_pattern(in, false);
      break;
    case 1:
      fuzz_pattern(in, true);
      break;
    default:
      fuzz_keystream(in);
  }
  return 0;
}
