// libFuzzer target: the input as a scrambled datagram, header parsing plus
// descrambling under every suite (round trips: fuzz_roundtrip.cc).
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "pktparse/scramble.h"

namespace {
using namespace pktparse;

PreparedKey& key_for(Suite s) {
  static PreparedKey keys[6];
  PreparedKey& k = keys[static_cast<std::uint8_t>(s)];
  if (!k.ready()) {
    static const std::uint8_t material[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                              17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
    const std::size_t len = s == Suite::aes256_ctr ? 32 : s == Suite::xor_inv ? 5 : s == Suite::xor_pattern ? 7 : 16;
    if (k.prepare(s, 1, {material, len}) != Status::ok) std::abort();
  }
  return k;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint8_t> dgram(data, data + size);
  KcHeader h;
  if (parse_header(dgram, h) == Status::ok && h.type == MsgType::data) {
    std::span<std::uint8_t> clear;
    if (descramble(key_for(h.suite), h, dgram, clear) == Status::ok &&
        (clear.data() < dgram.data() || clear.data() + clear.size() > dgram.data() + dgram.size()))
      std::abort();
  }
  return 0;
}
