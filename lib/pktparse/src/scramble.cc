// Scramble and descramble: choose the bytes (TS/RTP rules) and apply the
// suite's keystream, specialised per suite at compile time.
#include "pktparse/scramble.h"

#include <algorithm>
#include <type_traits>

#include "aes.h"
#include "checksum_kernels.h"
#include "pktparse/bytes.h"

namespace pktparse {

namespace {

enum class Dir { scramble, descramble };

// Keystream of the xor suites, continued across the pieces of one datagram.
class XorStream {
 public:
  explicit XorStream(const PreparedKey& key) noexcept : pattern_(key.pattern()) {}
  void apply(std::uint8_t* p, std::size_t n) noexcept { pos_ = fastxor::xor_pattern(p, n, pattern_, pos_); }
  // apply(), returning the sum of the bytes written (native order, counted
  // from p). The expanded pattern runs on unwrapped for kOverhang bytes past
  // its period, so from position pos it is a plain keystream for
  // period + kOverhang - pos bytes: a few fused calls per datagram.
  std::uint64_t apply_summed(std::uint8_t* p, std::size_t n) noexcept {
    const std::size_t period = pattern_.period();
    std::uint64_t acc = 0;
    for (std::size_t done = 0; done < n;) {
      const std::size_t piece = std::min(n - done, period + fastxor::Pattern::kOverhang - pos_);
      const std::uint16_t s = detail::fold64(detail::xor_sum(p + done, pattern_.bytes() + pos_, piece));
      acc += (done & 1) ? detail::bswap(s) : s;  // a piece from an odd byte: its words straddle p's
      done += piece;
      pos_ += piece;  // below period + kOverhang <= 2 * period
      if (pos_ >= period) pos_ -= period;
    }
    return acc;
  }

 private:
  const fastxor::Pattern& pattern_;
  std::size_t pos_ = 0;
};

// wire-format §3.1/§3.2: CTR's counter block is channel_id | seq | j with j
// from 0; GCM's IV is its first 12 bytes, channel_id | seq.
void counter_block0(const KcHeader& hdr, std::uint8_t block[16]) noexcept {
  store_be32(block, hdr.channel_id);
  store_be64(block + 4, hdr.seq);
  store_be32(block + 12, 0);
}

// AES-CTR over the scattered payloads of TS packets: one cipher call makes
// the keystream for all of them (as much as the rest of the body could
// need), then each payload is XORed with its part. Seven small cipher calls
// per datagram cost more than one large one.
class CtrTsStream {
 public:
  CtrTsStream(const PreparedKey& key, const std::uint8_t counter0[16], const std::uint8_t* body_end) noexcept
      : ctr_(*key.aes(), counter0), end_(body_end) {}
  void apply(std::uint8_t* p, std::size_t n) noexcept {
    while (n) {
      if (used_ == avail_) {
        avail_ = std::min<std::size_t>(detail::AesCtr::kChunk, static_cast<std::size_t>(end_ - p));
        ctr_.keystream(ks_, avail_);
        used_ = 0;
      }
      const std::size_t k = std::min(n, avail_ - used_);
      fastxor::xor_keystream(p, ks_ + used_, k);
      p += k;
      n -= k;
      used_ += k;
    }
  }
  bool ok() const noexcept { return ctr_.ok(); }

 private:
  detail::AesCtr ctr_;
  const std::uint8_t* end_;
  std::size_t avail_ = 0;
  std::size_t used_ = 0;
  alignas(64) std::uint8_t ks_[detail::AesCtr::kChunk];
};

// Applies the keystream to the TS packets of region that are (or are to be)
// scrambled, setting or resetting their scrambling bits.
template <Dir dir, class Stream>
Status apply_ts(Stream& ks, std::uint8_t* r, std::size_t n, const PidSet* clear_pids, std::uint8_t tsc) noexcept {
  for (std::uint8_t* pkt = r; pkt < r + n; pkt += kTsPacketLen) {
    const std::uint8_t bits = ts_scrambling(pkt);
    if constexpr (dir == Dir::scramble) {
      if (bits != 0) return Status::ts_already_scrambled;
    } else {
      if (bits == 0) continue;
      if (bits != tsc) return Status::ts_parity_mismatch;
    }
    std::size_t off;
    if (const Status s = ts_payload_offset(pkt, off); s != Status::ok) return s;
    if constexpr (dir == Dir::scramble) {
      if (off == kTsPacketLen || clear_pids->contains(ts_pid(pkt))) continue;
      ts_set_scrambling(pkt, tsc);
    } else {
      ts_set_scrambling(pkt, 0);
    }
    ks.apply(pkt + off, kTsPacketLen - off);
  }
  return Status::ok;
}

// xor suites, the common case of TS: at most kTsKeystreamPackets packets, each
// with payload only and each to be scrambled (scramble: bits 00, PID not
// clear) or scrambled under this key's parity (descramble). Then one XOR with
// the key's TS keystream does what apply_ts() does packet by packet.
template <Dir dir>
bool ts_all_payload_only(const std::uint8_t* r, std::size_t n, const PidSet* clear_pids, std::uint8_t tsc) noexcept {
  if (n > PreparedKey::kTsKeystreamPackets * kTsPacketLen) return false;
  constexpr std::uint8_t kPayloadOnly = 0x10;  // adaptation_field_control 01
  const std::uint8_t want = dir == Dir::scramble ? kPayloadOnly : static_cast<std::uint8_t>((tsc << 6) | kPayloadOnly);
  for (const std::uint8_t* pkt = r; pkt < r + n; pkt += kTsPacketLen) {
    if ((pkt[3] & 0xF0) != want) return false;
    if constexpr (dir == Dir::scramble) {
      if (clear_pids->contains(ts_pid(pkt))) return false;
    }
  }
  return true;
}

// `body` is the part after any RTP header; the whole of it or its TS payloads
// get the keystream. Where one pass over the body writes all of it (xor
// suites: a whole body, or TS packets of payload only), a wanted `sum` gets
// the body's sum from that pass.
template <Dir dir, class Stream>
Status apply_body(Stream& ks, const PreparedKey& key, const KcHeader& hdr, std::uint8_t* body, std::size_t n,
                  const PidSet* clear_pids, PayloadSum* sum) noexcept {
  constexpr bool kXor = std::is_same_v<Stream, XorStream>;
  if (hdr.flags & kFlagTs) {
    const std::uint8_t tsc = (hdr.key_id & 1) ? 0x3 : 0x2;
    if constexpr (kXor) {
      if (hdr.key_id == key.key_id() && ts_all_payload_only<dir>(body, n, clear_pids, tsc)) {
        if (sum) {
          *sum = {detail::xor_sum(body, key.ts_keystream().data(), n), true};
        } else {
          fastxor::xor_keystream(body, key.ts_keystream().data(), n);
        }
        return Status::ok;
      }
    }
    return apply_ts<dir>(ks, body, n, clear_pids, tsc);
  }
  if constexpr (kXor) {
    if (sum) {
      *sum = {ks.apply_summed(body, n), true};
      return Status::ok;
    }
  }
  ks.apply(body, n);
  return Status::ok;
}

// The whole datagram's crypto for one suite family. header points at the
// encoded keycast header, region at the payload region of region_len bytes.
// A wanted `sum` (of the whole region) is known afterwards where the suite's
// pass gave the body's.
template <Dir dir>
Status run_suite(PreparedKey& key, const KcHeader& hdr, const std::uint8_t* header, std::uint8_t* region,
                 std::size_t region_len, std::size_t rtp_len, const PidSet* clear_pids, PayloadSum* sum) noexcept {
  std::uint8_t* body = region + rtp_len;
  const std::size_t body_len = region_len - rtp_len;
  switch (key.suite()) {
    case Suite::xor_pattern:
    case Suite::xor_inv: {
      XorStream ks(key);
      const Status s = apply_body<dir>(ks, key, hdr, body, body_len, clear_pids, sum);
      if (sum && sum->known) sum->native += detail::short_sum64(region, rtp_len);  // rtp_len is a multiple of 4
      return s;
    }
    case Suite::aes128_ctr:
    case Suite::aes256_ctr: {
      std::uint8_t block0[16];
      counter_block0(hdr, block0);
      if (hdr.flags & kFlagTs) {
        CtrTsStream ks(key, block0, body + body_len);
        const Status s = apply_body<dir>(ks, key, hdr, body, body_len, clear_pids, nullptr);
        if (s != Status::ok) return s;
        return ks.ok() ? Status::ok : Status::crypto_error;
      }
      detail::AesCtr ks(*key.aes(), block0);
      const Status s = apply_body<dir>(ks, key, hdr, body, body_len, clear_pids, nullptr);
      if (s != Status::ok) return s;
      return ks.ok() ? Status::ok : Status::crypto_error;
    }
    case Suite::aes128_gcm: {
      std::uint8_t iv[16];
      counter_block0(hdr, iv);
      detail::AesGcm gcm(*key.aes(), iv, dir == Dir::scramble, header, hdr.hdr_len, region, rtp_len);
      if constexpr (dir == Dir::scramble)
        return gcm.seal(body, body_len, region + region_len);
      else
        return gcm.open(body, body_len, region + region_len);
    }
  }
  return Status::key_not_prepared;
}

}  // namespace

Status scramble(PreparedKey& key, const ChannelRules& rules, KcHeader& hdr, std::uint8_t* hdr_out,
                std::uint8_t* payload, std::size_t len, PayloadSum* sum) noexcept {
  if (sum) *sum = {};
  if (!key.ready()) return Status::key_not_prepared;
  hdr.type = MsgType::data;
  hdr.suite = key.suite();
  hdr.key_id = key.key_id();
  hdr.flags = 0;
  if (hdr.key_id == 0) return Status::kc_zero_key;
  if (hdr.channel_id == 0) return Status::kc_zero_channel;

  std::size_t rtp_len = 0;
  if (rules.rtp && rtp_header_len({payload, len}, rtp_len) == Status::ok) hdr.flags |= kFlagRtp;
  if (rules.ts && !suite_is_gcm(hdr.suite) && whole_ts_packets({payload + rtp_len, len - rtp_len}))
    hdr.flags |= kFlagTs;

  hdr.hdr_len = header_len(hdr);
  if (hdr.hdr_len + len + suite_trailer_len(hdr.suite) > kMaxUdpPayload) return Status::payload_too_long;
  encode_header(hdr, hdr_out);
  return run_suite<Dir::scramble>(key, hdr, hdr_out, payload, len, rtp_len, &rules.clear_pids, sum);
}

Status descramble(PreparedKey& key, const KcHeader& hdr, std::span<std::uint8_t> udp_payload,
                  std::span<std::uint8_t>& clear, PayloadSum* sum) noexcept {
  if (sum) *sum = {};
  if (hdr.type != MsgType::data) return Status::kc_bad_type;
  if (!key.ready()) return Status::key_not_prepared;
  if (key.suite() != hdr.suite) return Status::key_suite_mismatch;
  if (udp_payload.size() < hdr.hdr_len) return Status::kc_hdr_len_beyond_datagram;
  const std::size_t trailer = suite_trailer_len(hdr.suite);
  if (udp_payload.size() - hdr.hdr_len < trailer) return Status::payload_too_short;
  std::uint8_t* region = udp_payload.data() + hdr.hdr_len;
  const std::size_t region_len = udp_payload.size() - hdr.hdr_len - trailer;

  std::size_t rtp_len = 0;
  if (hdr.flags & kFlagRtp) {
    if (const Status s = rtp_header_len({region, region_len}, rtp_len); s != Status::ok) return s;
  }
  if ((hdr.flags & kFlagTs) && !whole_ts_packets({region + rtp_len, region_len - rtp_len}))
    return Status::ts_not_whole_packets;

  const Status s = run_suite<Dir::descramble>(key, hdr, udp_payload.data(), region, region_len, rtp_len, nullptr, sum);
  if (s == Status::ok) clear = udp_payload.subspan(hdr.hdr_len, region_len);
  return s;
}

}  // namespace pktparse
