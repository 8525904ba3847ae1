// keycast-bench: the Internet checksum over a scrambled datagram's UDP part
// (8-byte UDP header + 24-byte keycast header + 1316-byte payload; 1348 bytes)
// at a packet's usual misalignment, as the gateway recomputes it per datagram.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "pktparse/checksum.h"

namespace {

void BM_OnesSum(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<std::uint8_t> buf(n + 64);
  for (std::size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<std::uint8_t>(i * 31 + 7);
  const std::uint8_t* p = buf.data() + 2;
  for (auto _ : state) {
    benchmark::DoNotOptimize(p);
    benchmark::DoNotOptimize(pktparse::ones_sum({p, n}));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(n));
}
BENCHMARK(BM_OnesSum)->Arg(1348);

// The whole UDP checksum as the scrambler writes it: pseudo-header, UDP
// header (its checksum field rewritten in place each time) and payload.
void BM_SetUdpChecksum(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<std::uint8_t> frame(64 + 20 + n);
  for (std::size_t i = 0; i < frame.size(); ++i) frame[i] = static_cast<std::uint8_t>(i * 31 + 7);
  std::uint8_t* ip = frame.data() + 64 - 20 + 2;  // the UDP header where a DATA datagram has it, 2 past a line
  std::uint8_t* udp = ip + 20;
  ip[0] = 0x45;
  udp[4] = static_cast<std::uint8_t>(n >> 8);
  udp[5] = static_cast<std::uint8_t>(n);
  for (auto _ : state) {
    benchmark::DoNotOptimize(udp);
    pktparse::set_udp_checksum(ip, udp);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(n));
}
BENCHMARK(BM_SetUdpChecksum)->Arg(1348);

}  // namespace
