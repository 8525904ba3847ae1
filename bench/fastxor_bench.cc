// keycast-bench: lib/fastxor kernels against memcpy and ISA-L xor_gen on
// packet-sized buffers (Google Benchmark; main comes from benchmark_main).
#include <benchmark/benchmark.h>
#include <isa-l.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "fastxor/fastxor.h"
#include "set_bytes.h"

namespace {

constexpr std::size_t kMaxLen = 9000;

// The scrambled payload region of a DATA datagram in a DPDK mbuf: the data
// room starts 64-byte aligned, then Ethernet (14) + IPv4 (20) + UDP (8) +
// a 24-byte keycast header = 66 bytes, i.e. 64-byte aligned + 2.
constexpr std::size_t kScrambledPayloadOffset = 2;

// 64-byte aligned, zeroed storage for one buffer of up to kMaxLen bytes plus
// an offset.
struct Aligned {
  explicit Aligned(std::size_t size)
      : p(static_cast<std::uint8_t*>(std::aligned_alloc(64, (size + 63) / 64 * 64))) {
    std::memset(p, 0x5A, size);
  }
  ~Aligned() { std::free(p); }
  Aligned(const Aligned&) = delete;
  Aligned& operator=(const Aligned&) = delete;
  std::uint8_t* p;
};

fastxor::Pattern make_pattern(std::size_t len, bool inverting) {
  std::vector<std::uint8_t> key(len);
  for (std::size_t i = 0; i < len; ++i) key[i] = static_cast<std::uint8_t>(i * 37 + 11);
  fastxor::Pattern p;
  if (inverting) {
    p.assign_inverting(key);
  } else {
    p.assign(key);
  }
  return p;
}

void BM_Memcpy(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  Aligned src(kMaxLen);
  Aligned dst(kMaxLen + 64);
  std::uint8_t* d = dst.p + kScrambledPayloadOffset;
  for (auto _ : state) {
    benchmark::DoNotOptimize(src.p);
    benchmark::DoNotOptimize(d);
    std::memcpy(d, src.p, n);
    benchmark::ClobberMemory();
  }
  set_bytes(state, n);
}

void run_xor_pattern(benchmark::State& state, std::size_t pattern_len, bool inverting) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const fastxor::Pattern p = make_pattern(pattern_len, inverting);
  Aligned buf(kMaxLen + 64);
  std::uint8_t* b = buf.p + kScrambledPayloadOffset;
  std::size_t pos = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(b);
    pos = fastxor::xor_pattern(b, n, p, 0);
    benchmark::DoNotOptimize(pos);
    benchmark::ClobberMemory();
  }
  set_bytes(state, n);
  state.SetLabel(fastxor::impl_name());
}

void BM_XorPattern(benchmark::State& state) { run_xor_pattern(state, 16, false); }
void BM_XorPattern64(benchmark::State& state) { run_xor_pattern(state, 64, false); }
void BM_XorInv(benchmark::State& state) { run_xor_pattern(state, 16, true); }

// ISA-L needs 32-byte aligned vectors: all three are 64-byte aligned here.
void BM_IsalXorGen(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  Aligned a(kMaxLen);
  Aligned b(kMaxLen);
  Aligned dst(kMaxLen);
  void* vects[3] = {a.p, b.p, dst.p};
  for (auto _ : state) {
    benchmark::DoNotOptimize(vects);
    benchmark::DoNotOptimize(xor_gen(3, static_cast<int>(n), vects));
    benchmark::ClobberMemory();
  }
  set_bytes(state, n);
}

// A burst as the data path sees it: each datagram in its own mbuf, touched
// once per pass over 64 buffers of 2 KiB (128 KiB, L2-resident), instead of
// one hot buffer rewritten in place (where each pass's loads wait on the
// previous pass's stores, an artifact memcpy's separate source avoids).
constexpr std::size_t kBurstBuffers = 64;
constexpr std::size_t kMbufStride = 2048;

void BM_MemcpyBurst(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  Aligned src(kBurstBuffers * kMbufStride);
  Aligned dst(kBurstBuffers * kMbufStride);
  std::size_t i = 0;
  for (auto _ : state) {
    std::uint8_t* d = dst.p + i * kMbufStride + kScrambledPayloadOffset;
    benchmark::DoNotOptimize(d);
    std::memcpy(d, src.p + i * kMbufStride + kScrambledPayloadOffset, n);
    benchmark::ClobberMemory();
    i = (i + 1) % kBurstBuffers;
  }
  set_bytes(state, n);
}

void BM_XorPatternBurst(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const fastxor::Pattern p = make_pattern(16, false);
  Aligned buf(kBurstBuffers * kMbufStride);
  std::size_t i = 0;
  for (auto _ : state) {
    std::uint8_t* b = buf.p + i * kMbufStride + kScrambledPayloadOffset;
    benchmark::DoNotOptimize(b);
    benchmark::DoNotOptimize(fastxor::xor_pattern(b, n, p, 0));
    benchmark::ClobberMemory();
    i = (i + 1) % kBurstBuffers;
  }
  set_bytes(state, n);
  state.SetLabel(fastxor::impl_name());
}

#define KEYCAST_PACKET_SIZES Arg(64)->Arg(188)->Arg(1316)->Arg(1500)->Arg(9000)
BENCHMARK(BM_Memcpy)->KEYCAST_PACKET_SIZES;
BENCHMARK(BM_XorPattern)->KEYCAST_PACKET_SIZES;
BENCHMARK(BM_XorPattern64)->KEYCAST_PACKET_SIZES;
BENCHMARK(BM_XorInv)->KEYCAST_PACKET_SIZES;
BENCHMARK(BM_IsalXorGen)->KEYCAST_PACKET_SIZES;
BENCHMARK(BM_MemcpyBurst)->Arg(1316);
BENCHMARK(BM_XorPatternBurst)->Arg(1316);

}  // namespace
