// keycast-bench: secmem::wipe_stack_below at its default (64 KiB), what the
// key manager's loop pays every 50 ms and the gateway's control thread and
// keycast-recv every 100 ms.
#include <benchmark/benchmark.h>

#include "secmem/wipe.h"
#include "set_bytes.h"

namespace {

void BM_WipeStackBelow(benchmark::State& state) {
  for (auto _ : state) secmem::wipe_stack_below();
  set_bytes(state, secmem::kStackWipeBytes);
}
BENCHMARK(BM_WipeStackBelow);

}  // namespace
