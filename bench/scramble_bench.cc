// keycast-bench: a full keycast scramble of one datagram (header, TS/RTP
// rules, suite) against the bare OpenSSL call it is built on.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <vector>

#include "pktparse/scramble.h"

namespace {

using namespace pktparse;

constexpr std::size_t kLen = 1316;  // 7 TS packets: the usual IPTV datagram
constexpr std::size_t kPayloadOffset = 42;  // payload after Eth+IPv4+UDP in an mbuf: 64-byte aligned + 42

constexpr std::array<std::uint8_t, 16> kAesKey = {0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
                                                  0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c};

void set_bytes(benchmark::State& state, std::size_t n) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(n));
}

// A datagram buffer: room for the header in front of the payload (as an mbuf's
// headroom), then the payload and room for a GCM tag.
struct Datagram {
  explicit Datagram(const std::vector<std::uint8_t>& payload) : buf(4096 + payload.size()) {
    const auto base = (reinterpret_cast<std::uintptr_t>(buf.data()) + 63) & ~std::uintptr_t{63};
    payload_at = reinterpret_cast<std::uint8_t*>(base) + 128 + kPayloadOffset;
    std::copy(payload.begin(), payload.end(), payload_at);
  }
  std::vector<std::uint8_t> buf;
  std::uint8_t* payload_at;
};

std::vector<std::uint8_t> ts_payload() {
  std::vector<std::uint8_t> p(kLen);
  for (std::size_t i = 0; i < kLen; ++i) p[i] = static_cast<std::uint8_t>(i * 7);
  for (std::size_t k = 0; k < kLen; k += kTsPacketLen) {
    p[k] = kTsSync;
    p[k + 1] = 0x01;  // PID 0x100
    p[k + 2] = 0x00;
    p[k + 3] = 0x10;  // payload only, scrambling bits 00
  }
  return p;
}

void run_scramble(benchmark::State& state, Suite suite, std::span<const std::uint8_t> key_material, bool ts) {
  PreparedKey key;
  if (key.prepare(suite, 2, key_material) != Status::ok) {
    state.SkipWithError("key prepare failed");
    return;
  }
  ChannelRules rules;
  rules.ts = ts;
  Datagram d(ts_payload());
  KcHeader hdr;
  hdr.channel_id = 1;
  hdr.key_remaining_ms = 5000;
  hdr.set(TlvType::key_remaining_ms);
  const std::size_t hlen = header_len(hdr);
  for (auto _ : state) {
    if (ts)  // scrambling sets these bits; the next round needs clear input again
      for (std::size_t k = 3; k < kLen; k += kTsPacketLen) d.payload_at[k] &= 0x3F;
    ++hdr.seq;
    const Status s = scramble(key, rules, hdr, d.payload_at - hlen, d.payload_at, kLen);
    benchmark::DoNotOptimize(s);
    benchmark::ClobberMemory();
  }
  set_bytes(state, kLen);
}

void BM_OpensslCtr128(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(ctx, EVP_aes_128_ctr(), nullptr, kAesKey.data(), nullptr);
  Datagram d(std::vector<std::uint8_t>(n, 0x33));
  std::uint8_t iv[16] = {};
  std::uint64_t seq = 0;
  for (auto _ : state) {
    iv[11] = static_cast<std::uint8_t>(++seq);
    int outl = 0;
    EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, iv);
    EVP_EncryptUpdate(ctx, d.payload_at, &outl, d.payload_at, static_cast<int>(n));
    benchmark::DoNotOptimize(outl);
    benchmark::ClobberMemory();
  }
  EVP_CIPHER_CTX_free(ctx);
  set_bytes(state, n);
}
BENCHMARK(BM_OpensslCtr128)->Arg(kLen);

void BM_ScrambleAes128Ctr(benchmark::State& state) { run_scramble(state, Suite::aes128_ctr, kAesKey, false); }
BENCHMARK(BM_ScrambleAes128Ctr)->Arg(kLen);

void BM_ScrambleAes128Gcm(benchmark::State& state) { run_scramble(state, Suite::aes128_gcm, kAesKey, false); }
BENCHMARK(BM_ScrambleAes128Gcm)->Arg(kLen);

void BM_ScrambleXor(benchmark::State& state) { run_scramble(state, Suite::xor_pattern, kAesKey, false); }
BENCHMARK(BM_ScrambleXor)->Arg(kLen);

// 7 TS packets, xor suite: per-packet rules plus a keystream continued across them.
void BM_ScrambleTs(benchmark::State& state) { run_scramble(state, Suite::xor_pattern, kAesKey, true); }
BENCHMARK(BM_ScrambleTs)->Arg(kLen);

void BM_ScrambleTsAes128Ctr(benchmark::State& state) { run_scramble(state, Suite::aes128_ctr, kAesKey, true); }
BENCHMARK(BM_ScrambleTsAes128Ctr)->Arg(kLen);

}  // namespace
