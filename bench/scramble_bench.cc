// keycast-bench: a full keycast scramble of one datagram (header, TS/RTP
// rules, suite) against the bare crypto library calls it is built on: OpenSSL
// EVP and, where built with it, intel-ipsec-mb (the faster one backs the AES
// suites; the report's context names it).
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#ifdef PKTPARSE_HAVE_IPSEC_MB
#include <intel-ipsec-mb.h>
#endif

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "pktparse/scramble.h"
#include "set_bytes.h"

namespace {

using namespace pktparse;

constexpr std::size_t kLen = 1316;  // 7 TS packets: the usual IPTV datagram
constexpr std::size_t kClearPayloadOffset = 42;  // payload after Eth+IPv4+UDP in an mbuf: 64-byte aligned + 42

constexpr std::array<std::uint8_t, 16> kAesKey = {0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6,
                                                  0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c};

// A datagram buffer: room for the header in front of the payload (as an mbuf's
// headroom), then the payload and room for a GCM tag.
struct Datagram {
  explicit Datagram(const std::vector<std::uint8_t>& payload) : buf(4096 + payload.size()) {
    const auto base = (reinterpret_cast<std::uintptr_t>(buf.data()) + 63) & ~std::uintptr_t{63};
    payload_at = reinterpret_cast<std::uint8_t*>(base) + 128 + kClearPayloadOffset;
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

// GCM as a datagram needs it: IV set on the prepared context, AAD (a keycast
// header's worth), encrypt in place, tag.
constexpr std::size_t kAadLen = 30;

void BM_OpensslGcm128(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), nullptr, kAesKey.data(), nullptr);
  Datagram d(std::vector<std::uint8_t>(n + kGcmTagLen, 0x33));
  std::uint8_t iv[12] = {};
  std::uint64_t seq = 0;
  for (auto _ : state) {
    iv[11] = static_cast<std::uint8_t>(++seq);
    int outl = 0;
    EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, iv);
    EVP_EncryptUpdate(ctx, nullptr, &outl, d.payload_at - kAadLen, static_cast<int>(kAadLen));
    EVP_EncryptUpdate(ctx, d.payload_at, &outl, d.payload_at, static_cast<int>(n));
    EVP_EncryptFinal_ex(ctx, d.payload_at + n, &outl);
    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(kGcmTagLen), d.payload_at + n);
    benchmark::DoNotOptimize(outl);
    benchmark::ClobberMemory();
  }
  EVP_CIPHER_CTX_free(ctx);
  set_bytes(state, n);
}
BENCHMARK(BM_OpensslGcm128)->Arg(kLen);

#ifdef PKTPARSE_HAVE_IPSEC_MB
// intel-ipsec-mb with the architecture it picks for this CPU.
struct ImbMgr {
  ImbMgr() : mgr(alloc_mb_mgr(0)) {
    if (mgr) init_mb_mgr_auto(mgr, &arch);
  }
  ~ImbMgr() {
    if (mgr) free_mb_mgr(mgr);
  }
  IMB_MGR* mgr;
  IMB_ARCH arch = IMB_ARCH_NONE;
};

// CTR through the cipher burst API, one job per datagram, key expanded once.
void BM_IpsecMbCtr128(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  ImbMgr m;
  if (!m.mgr) return state.SkipWithError("alloc_mb_mgr failed");
  alignas(16) std::uint8_t enc[16 * 11], dec[16 * 11];
  IMB_AES_KEYEXP_128(m.mgr, kAesKey.data(), enc, dec);
  Datagram d(std::vector<std::uint8_t>(n, 0x33));
  alignas(16) std::uint8_t iv[16] = {};
  std::uint64_t seq = 0;
  for (auto _ : state) {
    iv[11] = static_cast<std::uint8_t>(++seq);
    IMB_JOB job{};
    job.src = d.payload_at;
    job.dst = d.payload_at;
    job.msg_len_to_cipher_in_bytes = n;
    job.iv = iv;
    job.iv_len_in_bytes = 16;
    job.enc_keys = enc;
    job.key_len_in_bytes = IMB_KEY_128_BYTES;
    job.cipher_mode = IMB_CIPHER_CNTR;
    job.cipher_direction = IMB_DIR_ENCRYPT;
    job.hash_alg = IMB_AUTH_NULL;
    job.chain_order = IMB_ORDER_CIPHER_HASH;
    const auto done = IMB_SUBMIT_CIPHER_BURST_NOCHECK(m.mgr, &job, 1, IMB_CIPHER_CNTR, IMB_DIR_ENCRYPT, IMB_KEY_128_BYTES);
    benchmark::DoNotOptimize(done);
    benchmark::ClobberMemory();
  }
  set_bytes(state, n);
}
BENCHMARK(BM_IpsecMbCtr128)->Arg(kLen);

// GCM through the direct API in one call (IV, AAD, data, tag), as pktparse
// calls it; key data precomputed once.
void BM_IpsecMbGcm128(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  ImbMgr m;
  if (!m.mgr) return state.SkipWithError("alloc_mb_mgr failed");
  gcm_key_data key;
  IMB_AES128_GCM_PRE(m.mgr, kAesKey.data(), &key);
  Datagram d(std::vector<std::uint8_t>(n + kGcmTagLen, 0x33));
  std::uint8_t iv[12] = {};
  std::uint64_t seq = 0;
  for (auto _ : state) {
    iv[11] = static_cast<std::uint8_t>(++seq);
    gcm_context_data ctx;
    IMB_AES128_GCM_ENC(m.mgr, &key, &ctx, d.payload_at, d.payload_at, n, iv, d.payload_at - kAadLen, kAadLen,
                       d.payload_at + n, kGcmTagLen);
    benchmark::ClobberMemory();
  }
  imb_clear_mem(&key, sizeof key);
  set_bytes(state, n);
}
BENCHMARK(BM_IpsecMbGcm128)->Arg(kLen);
#endif

// The AES backend the Scramble benchmarks below run on (PKTPARSE_AES chooses).
const bool kAesContext = [] {
  benchmark::AddCustomContext("aes", std::string(aes_backend_name(aes_backend())));
  return true;
}();

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
