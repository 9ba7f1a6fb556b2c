// editgate_bench entry point: records the device and its measured matmul
// FLOP/s in the JSON context, then runs the registered benchmarks.

#include <benchmark/benchmark.h>

#include "suites/bench/device_peak.h"

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const auto device = editgate::bench::bench_device();
  benchmark::AddCustomContext("editgate_device", device.str());
  benchmark::AddCustomContext("matmul_flops_per_second",
                              std::to_string(editgate::bench::measured_matmul_flops(device)));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
