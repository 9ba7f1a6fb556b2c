// LEACE fit and logistic-probe training against the number of samples n and
// the dimension d (range(0) = n, range(1) = d), k = 4 classes with shifted
// means. LEACE: accumulating the statistics is O(n d²), the whitening
// eigendecomposition and SVD O(d³). Probe: L-BFGS, O(n d k) per iteration.
// BM_EraseFile: `editgate erase`'s file job (read, fit, erase, write) with its
// peak resident memory as counters.

#include <ATen/ATen.h>
#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

#include <unistd.h>

#include "editors/erasure_files.h"
#include "editors/labeled_data.h"
#include "editors/leace.h"
#include "editors/logistic_probe.h"
#include "suites/bench/bench_timer.h"
#include "suites/bench/device_peak.h"
#include "suites/bench/peak_rss.h"
#include "harness/remove_tree.h"
#include "harness/safetensors_writer.h"

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

// The issue-22 workload (range(0) = n, range(1) = d, 5 classes, float32 X) as a
// file, then erase_file on it, on the CPU as `editgate erase` runs by default.
// Counters: peak_rss (the process's resident high-water mark during the last
// iteration, reset before it), peak_rss_growth (that peak minus the resident set
// at the iteration's start: what erase_file itself added) and
// growth_over_input (growth / X's bytes; the whole-process ratio, with
// libtorch's own pages, is suites/bench/erase_memory_bench.sh's).
void erase_file(benchmark::State& state) {
  const int64_t n = state.range(0), d = state.range(1), k = 5;
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("editgate_bench_erase_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    at::manual_seed(0);
    const at::Tensor z = at::randint(k, {n}, at::kLong);
    const at::Tensor x = at::randn({n, d}) + at::randn({k, d}).index_select(0, z) * 0.5;
    harness::write_safetensors(dir / "in.safetensors", {{"X", x}, {"Z", z}});
  }  // freed: only the file remains
  const double input_bytes = static_cast<double>(n * d * 4);
  int64_t growth = 0, peak = 0;
  bench::timed_iterations(
      state,
      [&] {
        std::filesystem::remove(dir / "out.safetensors");
        bench::reset_peak_rss();
        const int64_t start = bench::current_rss_bytes();
        const auto report = editors::erase_file(dir / "in.safetensors", dir / "out.safetensors", {});
        benchmark::DoNotOptimize(report);
        peak = bench::peak_rss_bytes();
        growth = peak - start;
        if (report["fit"]["rank"].get<int64_t>() != k - 1) state.SkipWithError("LEACE rank != k - 1");
      });
  harness::remove_tree(dir);
  state.counters["peak_rss"] = benchmark::Counter(static_cast<double>(peak), benchmark::Counter::kDefaults,
                                                  benchmark::Counter::kIs1024);
  state.counters["peak_rss_growth"] = benchmark::Counter(static_cast<double>(growth),
                                                         benchmark::Counter::kDefaults, benchmark::Counter::kIs1024);
  state.counters["growth_over_input"] = static_cast<double>(growth) / input_bytes;
  state.SetItemsProcessed(state.iterations() * n);
  state.SetBytesProcessed(state.iterations() * n * d * 4);
}

const bool kRegistered = [] {
  auto* b = benchmark::RegisterBenchmark("BM_LeaceFit", leace_fit);
  b->ArgNames({"n", "d"})->Unit(benchmark::kMillisecond)->UseManualTime();
  for (int64_t d : {128, 512}) {
    for (int64_t n : {1000, 10000}) b->Args({n, d});
  }
  if (bench::bench_device().is_cuda()) b->Args({100000, 1600})->Args({100000, 4096})->Args({1000000, 4096});
  benchmark::RegisterBenchmark("BM_EraseFile", erase_file)
      ->ArgNames({"n", "d"})
      ->Unit(benchmark::kMillisecond)
      ->UseManualTime()
      ->Args({200000, 256});
  auto* p = benchmark::RegisterBenchmark("BM_ProbeTrain", probe_train);
  p->ArgNames({"n", "d"})->Unit(benchmark::kMillisecond)->UseManualTime()->Args({1000, 128})->Args({10000, 512});
  if (bench::bench_device().is_cuda()) p->Args({100000, 4096});  // the GPU probe size
  return true;
}();

}  // namespace
