// keycast-bench: the Internet checksum over a scrambled datagram's UDP part
// (8-byte UDP header + 24-byte keycast header + 1316-byte payload; 1348 bytes)
// at a packet's usual misalignment, as the gateway recomputes it per datagram.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <memory>

#include "pktparse/checksum.h"
#include "set_bytes.h"

namespace {

// The UDP header of a DATA datagram in an mbuf (data room 64-byte aligned,
// 14 + 20 bytes of headers before it) sits 2 bytes past a cache line.
constexpr std::size_t kUdpOffset = 64 + 2;

struct Frame {
  explicit Frame(std::size_t udp_len)
      : bytes(static_cast<std::uint8_t*>(std::aligned_alloc(64, (kUdpOffset + udp_len + 63) / 64 * 64)), &std::free) {
    for (std::size_t i = 0; i < kUdpOffset + udp_len; ++i) bytes.get()[i] = static_cast<std::uint8_t>(i * 31 + 7);
  }
  std::uint8_t* udp() const { return bytes.get() + kUdpOffset; }
  std::uint8_t* ip() const { return udp() - 20; }
  std::unique_ptr<std::uint8_t, decltype(&std::free)> bytes;
};

void BM_OnesSum(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const Frame f(n);
  const std::uint8_t* p = f.udp();
  for (auto _ : state) {
    benchmark::DoNotOptimize(p);
    benchmark::DoNotOptimize(pktparse::ones_sum({p, n}));
  }
  set_bytes(state, n);
}
BENCHMARK(BM_OnesSum)->Arg(1348);

// The whole UDP checksum as the scrambler writes it: pseudo-header, UDP
// header (its checksum field rewritten in place each time) and payload.
void BM_SetUdpChecksum(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const Frame f(n);
  f.ip()[0] = 0x45;
  f.udp()[4] = static_cast<std::uint8_t>(n >> 8);
  f.udp()[5] = static_cast<std::uint8_t>(n);
  std::uint8_t* ip = f.ip();
  std::uint8_t* udp = f.udp();
  for (auto _ : state) {
    benchmark::DoNotOptimize(udp);
    pktparse::set_udp_checksum(ip, udp);
    benchmark::ClobberMemory();
  }
  set_bytes(state, n);
}
BENCHMARK(BM_SetUdpChecksum)->Arg(1348);

}  // namespace
