// LEACE fit and logistic-probe training against the number of samples n and
// the dimension d (range(0) = n, range(1) = d), k = 4 classes with shifted
// means. LEACE: accumulating the statistics is O(n d²), the whitening
// eigendecomposition and SVD O(d³). Probe: L-BFGS, O(n d k) per iteration.

#include <ATen/ATen.h>
#include <benchmark/benchmark.h>

#include "editors/labeled_data.h"
#include "editors/leace.h"
#include "editors/logistic_probe.h"
#include "suites/bench/bench_timer.h"
#include "suites/bench/device_peak.h"

namespace {

namespace bench = editgate::bench;
using namespace editgate;

constexpr int64_t kClasses = 4;

// n rows of d features, kClasses classes with shifted means (a concept to find and erase).
// Drawn on the bench device: 1e6 x 4096 on the host would take longer than the fit.
editors::LabeledData bench_data(int64_t n, int64_t d) {
  const auto dev = bench::bench_device();
  at::manual_seed(0);
  const auto opts = at::TensorOptions().device(dev);
  editors::LabeledData data;
  data.z = at::randint(kClasses, {n}, opts.dtype(at::kLong));
  data.x = at::randn({n, d}, opts) + at::randn({kClasses, d}, opts).index_select(0, data.z) * 0.5;
  data.num_classes = kClasses;
  return data;
}

// Past 1e5 rows the statistics stream in batches, as a fit on data larger than
// memory would (the result equals the one-batch fit; leace_test checks that).
constexpr int64_t kStreamBatch = 131072;
int64_t fit_batch(int64_t n) { return n > 100000 ? kStreamBatch : 0; }

void leace_fit(benchmark::State& state) {
  const int64_t n = state.range(0), d = state.range(1), k = kClasses;
  const auto data = bench_data(n, d);
  {  // check once: a rank k-1 edit
    const auto fit = editors::fit_leace(data, {}, fit_batch(n));
    if (fit.report.rank != k - 1) state.SkipWithError("LEACE rank != k - 1");
  }
  bench::timed_iterations(state, [&] {
    auto fit = editors::fit_leace(data, {}, fit_batch(n));
    benchmark::DoNotOptimize(fit);
  });
  state.SetItemsProcessed(state.iterations() * n);
  state.SetBytesProcessed(state.iterations() * n * d * 4);
}

void probe_train(benchmark::State& state) {
  const int64_t n = state.range(0), d = state.range(1);
  const auto data = bench_data(n, d);
  {  // check once: the probe finds the concept (training accuracy well above chance)
    const auto probe = editors::LogisticProbe::fit(data);
    const double acc = probe.predict(data.x).eq(data.z).to(at::kDouble).mean().item<double>();
    if (acc < 2.0 / kClasses) state.SkipWithError("probe accuracy near chance");
  }
  bench::timed_iterations(state, [&] {
    auto probe = editors::LogisticProbe::fit(data);
    benchmark::DoNotOptimize(probe);
  });
  state.SetItemsProcessed(state.iterations() * n);
}

const bool kRegistered = [] {
  auto* b = benchmark::RegisterBenchmark("BM_LeaceFit", leace_fit);
  b->ArgNames({"n", "d"})->Unit(benchmark::kMillisecond)->UseManualTime();
  for (int64_t d : {128, 512}) {
    for (int64_t n : {1000, 10000}) b->Args({n, d});
  }
  if (bench::bench_device().is_cuda()) b->Args({100000, 1600})->Args({100000, 4096})->Args({1000000, 4096});
  auto* p = benchmark::RegisterBenchmark("BM_ProbeTrain", probe_train);
  p->ArgNames({"n", "d"})->Unit(benchmark::kMillisecond)->UseManualTime()->Args({1000, 128})->Args({10000, 512});
  if (bench::bench_device().is_cuda()) p->Args({100000, 4096});  // the GPU probe size
  return true;
}();

}  // namespace
