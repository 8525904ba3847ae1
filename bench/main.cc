// keycast-bench's main: Google Benchmark, with the fastxor implementation in
// use recorded in the report's context.
#include <benchmark/benchmark.h>

#include "fastxor/fastxor.h"

int main(int argc, char** argv) {
  benchmark::AddCustomContext("fastxor", fastxor::impl_name());
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
