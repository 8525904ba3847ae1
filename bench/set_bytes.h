// keycast-bench: the bytes each iteration of a benchmark handles, from which
// Google Benchmark reports bytes/s.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>

inline void set_bytes(benchmark::State& state, std::size_t n) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(n));
}
