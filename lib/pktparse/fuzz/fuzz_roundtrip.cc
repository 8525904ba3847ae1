// libFuzzer target: scramble -> descramble round trips over all five suites.
// The input chooses the suite, the key (xor lengths 1..1024, xor-inv
// 1..512), the channel's TS/RTP rules and a clear PID, the header's fields
// and TLVs, the payload (as given, or shaped into an RTP header and TS
// packets so those paths are reached) and one byte to corrupt. Checked:
//   - what scrambles parses back to the same header and descrambles to the
//     original payload;
//   - AES keys of both backends (EVP, ipsec-mb where it runs) scramble to the
//     same bytes, each descrambling what the other scrambled;
//   - a payload sum taken in the crypto pass (scramble and descramble), where
//     known, is the sum of the bytes written, and taking it changes no byte;
//   - a corrupted or truncated datagram is rejected or descrambled inside
//     its buffer, never crashes; under GCM it is always rejected, as is the
//     datagram under a key with other material.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "fuzz_input.h"
#include "pktparse/scramble.h"

namespace {

using namespace pktparse;
using Bytes = std::vector<std::uint8_t>;

void check(bool ok) {
  if (!ok) std::abort();
}

std::size_t key_length(FuzzInput& in, Suite s) {
  switch (s) {
    case Suite::xor_pattern:
      return static_cast<std::size_t>(in.range(1, 1024));
    case Suite::xor_inv:
      return static_cast<std::size_t>(in.range(1, 512));
    case Suite::aes256_ctr:
      return 32;
    default:
      return 16;
  }
}

Bytes key_material(std::size_t len, std::uint8_t seed) {
  Bytes m(len);
  for (std::size_t i = 0; i < len; ++i) m[i] = static_cast<std::uint8_t>(seed + i * 97 + (i >> 8));
  return m;
}

void prepare(PreparedKey& key, AesBackend backend, Suite s, std::uint32_t key_id, const Bytes& material) {
  if (!suite_is_xor(s)) (void)force_aes_backend(backend);  // false: not available, the other one then
  check(key.prepare(s, key_id, material) == Status::ok);
}

void read_header_fields(FuzzInput& in, KcHeader& h) {
  h.channel_id = static_cast<std::uint32_t>(in.range(1, UINT32_MAX));
  h.seq = in.range(0, UINT64_MAX);
  const auto tlvs = in.range(0, 31);
  if (tlvs & 1) {
    h.set(TlvType::key_remaining_ms);
    h.key_remaining_ms = static_cast<std::uint32_t>(in.range(0, UINT32_MAX));
  }
  if (tlvs & 2) {
    h.set(TlvType::keymgr_addr4);
    h.keymgr4.addr[0] = 127;
    h.keymgr4.addr[3] = 1;
    h.keymgr4.port = 7700;
  }
  if (tlvs & 4) {
    h.set(TlvType::keymgr_addr6);
    h.keymgr6.addr[15] = 1;
    h.keymgr6.port = 7701;
  }
  if (tlvs & 8) {
    h.set(TlvType::next_key_id);
    h.next_key_id = static_cast<std::uint32_t>(in.range(1, UINT32_MAX));
  }
  if (tlvs & 16) {
    h.set(TlvType::next_key_in_ms);
    h.next_key_in_ms = static_cast<std::uint32_t>(in.range(0, UINT32_MAX));
  }
}

// The payload as given, or an RTP header (CSRCs, an extension) and/or whole
// TS packets with the sync byte (scrambling bits mostly clear) built from it.
Bytes make_payload(FuzzInput& in) {
  const auto shape = in.range(0, 3);
  if (shape == 0) {
    const auto rest = in.rest();
    return Bytes(rest.begin(), rest.end());
  }
  Bytes p;
  if (shape & 1) {
    const auto csrcs = in.range(0, 15);
    const bool ext = in.flag();
    p.push_back(static_cast<std::uint8_t>(0x80 | (ext ? 0x10 : 0) | csrcs));
    p.resize(12 + 4 * csrcs, 0x21);
    if (ext) {
      const auto words = in.range(0, 3);
      p.insert(p.end(), {0xBE, 0xDE, 0x00, static_cast<std::uint8_t>(words)});
      p.resize(p.size() + 4 * words, 0x5A);
    }
  }
  if (shape & 2) {
    const auto packets = in.range(1, 7);
    for (std::uint64_t k = 0; k < packets; ++k) {
      const std::size_t at = p.size();
      const auto src = in.bytes(188);
      p.insert(p.end(), src.begin(), src.end());
      p.resize(at + 188, static_cast<std::uint8_t>(k));
      p[at] = kTsSync;
      if (!in.flag()) p[at + 3] &= 0x3F;
    }
  } else {
    const auto rest = in.rest();
    p.insert(p.end(), rest.begin(), rest.end());
  }
  return p;
}

// A known sum is the one's-complement sum of `bytes`.
bool sum_matches(const PayloadSum& sum, std::span<const std::uint8_t> bytes) {
  return !sum.known || network_sum(sum) == ones_sum(bytes);
}

// Descrambles `dgram` (a copy, which may be changed in place); whether it
// came out ok. Any clear view must lie inside the datagram; descrambling a
// second copy with the payload's sum gives the same bytes and their sum.
bool descrambles(PreparedKey& key, Bytes dgram, Bytes* clear_out = nullptr) {
  KcHeader h;
  if (parse_header(dgram, h) != Status::ok || h.type != MsgType::data) return false;
  Bytes summed = dgram;
  std::span<std::uint8_t> clear;
  const Status s = descramble(key, h, dgram, clear);
  std::span<std::uint8_t> summed_clear;
  PayloadSum sum;
  check(descramble(key, h, summed, summed_clear, &sum) == s);
  if (s != Status::ok) return false;
  check(clear.data() >= dgram.data() && clear.data() + clear.size() <= dgram.data() + dgram.size());
  check(summed == dgram && sum_matches(sum, summed_clear));
  if (clear_out) clear_out->assign(clear.begin(), clear.end());
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzInput in(data, size);
  const auto suite = static_cast<Suite>(in.range(1, 5));
  const Bytes material = key_material(key_length(in, suite), static_cast<std::uint8_t>(in.range(0, 255)));
  const auto key_id = static_cast<std::uint32_t>(in.range(1, UINT32_MAX));
  const bool evp_scrambles = in.flag();
  ChannelRules rules;
  rules.ts = in.flag();
  rules.rtp = in.flag();
  if (in.flag()) rules.clear_pids.add(static_cast<std::uint16_t>(in.range(0, kTsNullPid)));
  KcHeader hdr;
  read_header_fields(in, hdr);
  const auto corrupt_at = static_cast<std::size_t>(in.range(0, UINT16_MAX));
  const auto corrupt_mask = static_cast<std::uint8_t>(in.range(1, 255));
  const Bytes payload = make_payload(in);

  PreparedKey scrambler;
  PreparedKey descrambler;  // the other AES backend
  prepare(scrambler, evp_scrambles ? AesBackend::evp : AesBackend::ipsec_mb, suite, key_id, material);
  prepare(descrambler, evp_scrambles ? AesBackend::ipsec_mb : AesBackend::evp, suite, key_id, material);

  const std::size_t hlen = header_len(hdr);
  Bytes dgram(hlen + payload.size() + kGcmTagLen);
  if (!payload.empty()) std::memcpy(dgram.data() + hlen, payload.data(), payload.size());
  Bytes other = dgram;
  KcHeader other_hdr = hdr;
  const Status s = scramble(scrambler, rules, hdr, dgram.data(), dgram.data() + hlen, payload.size());
  PayloadSum sum;
  check(scramble(descrambler, rules, other_hdr, other.data(), other.data() + hlen, payload.size(), &sum) == s);
  if (s != Status::ok) return 0;
  check(other == dgram && sum_matches(sum, {dgram.data() + hlen, payload.size()}));
  dgram.resize(hlen + payload.size() + suite_trailer_len(suite));

  KcHeader parsed;
  check(parse_header(dgram, parsed) == Status::ok);
  check(parsed.hdr_len == hlen && parsed.suite == suite && parsed.key_id == key_id &&
        parsed.channel_id == hdr.channel_id && parsed.seq == hdr.seq && parsed.tlvs == hdr.tlvs &&
        parsed.flags == hdr.flags);
  check(!(hdr.flags & kFlagTs) || rules.ts);
  check(!(hdr.flags & kFlagRtp) || rules.rtp);
  Bytes clear;
  check(descrambles(descrambler, dgram, &clear) && clear == payload);
  check(descrambles(scrambler, dgram, &clear) && clear == payload);

  Bytes corrupted = dgram;
  corrupted[corrupt_at % corrupted.size()] ^= corrupt_mask;
  const bool corrupted_ok = descrambles(descrambler, corrupted);
  const bool truncated_ok = descrambles(descrambler, Bytes(dgram.begin(), dgram.end() - 1));
  if (suite_is_gcm(suite)) {
    check(!corrupted_ok && !truncated_ok);
    PreparedKey wrong;
    Bytes wrong_material = material;
    wrong_material[corrupt_at % wrong_material.size()] ^= corrupt_mask;
    prepare(wrong, AesBackend::evp, suite, key_id, wrong_material);
    check(!descrambles(wrong, dgram));
  }
  return 0;
}
