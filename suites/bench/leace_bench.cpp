// LEACE fit cost against the number of samples n and the dimension d
// (range(0) = n, range(1) = d), k = 4 classes: accumulating the statistics is
// O(n d²), the whitening eigendecomposition and SVD O(d³).

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <benchmark/benchmark.h>

#include "editors/labeled_data.h"
#include "editors/leace.h"
#include "suites/bench/bench_timer.h"
#include "suites/bench/device_peak.h"

namespace {

namespace bench = editgate::bench;
using namespace editgate;

void leace_fit(benchmark::State& state) {
  const int64_t n = state.range(0), d = state.range(1), k = 4;
  const auto opts = at::TensorOptions().device(bench::bench_device());
  auto gen = at::make_generator<at::CPUGeneratorImpl>(0);
  editors::LabeledData data;
  data.z = at::randint(k, {n}, gen, at::TensorOptions().dtype(at::kLong)).to(opts.device());
  // Class-dependent means so there is a concept to erase.
  data.x = (at::randn({n, d}, gen) + at::randn({k, d}, gen).index_select(0, data.z.cpu()) * 0.5).to(opts.device());
  data.num_classes = k;
  {  // check once: a rank k-1 edit
    const auto fit = editors::fit_leace(data);
    if (fit.report.rank != k - 1) state.SkipWithError("LEACE rank != k - 1");
  }
  bench::IterationTimer timer;
  for (auto _ : state) {
    timer.start();
    auto fit = editors::fit_leace(data);
    state.SetIterationTime(timer.stop_seconds());
    benchmark::DoNotOptimize(fit);
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.SetBytesProcessed(state.iterations() * n * d * 4);
}

const bool kRegistered = [] {
  auto* b = benchmark::RegisterBenchmark("BM_LeaceFit", leace_fit);
  b->ArgNames({"n", "d"})->Unit(benchmark::kMillisecond)->UseManualTime();
  for (int64_t d : {128, 512}) {
    for (int64_t n : {1000, 10000}) b->Args({n, d});
  }
  if (bench::bench_device().is_cuda()) b->Args({100000, 1600})->Args({100000, 4096});
  return true;
}();

}  // namespace
