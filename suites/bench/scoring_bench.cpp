// Batched scoring throughput (the primitive every suite measures through):
// tokens/s and achieved FLOP/s as a fraction of the device's measured matmul
// FLOP/s, on random-weight GPT-2 models of the fixture's and GPT-2 small's shapes.

#include <ATen/ATen.h>
#include <benchmark/benchmark.h>
#include <torch/cuda.h>

#include <chrono>
#include <cmath>

#include "fixtures/gpt2_init.h"
#include "harness/scoring.h"
#include "suites/bench/device_peak.h"

namespace {

using editgate::fixtures::Gpt2Shape;

// Forward FLOPs of one sequence: 2 x (weights touched per token) + attention (q·k and p·v).
double forward_flops(const Gpt2Shape& s, int64_t seq) {
  const double d = static_cast<double>(s.d_model);
  const double per_token_weights = s.n_layer * (3 * d * d + d * d + 2 * 4 * d * d) + d * s.vocab_size;
  const double attention = s.n_layer * 2.0 * 2.0 * seq * d;  // per token, full (masked) rows
  return seq * (2.0 * per_token_weights + attention);
}

void score_batch(benchmark::State& state, Gpt2Shape shape) {
  const int64_t batch = state.range(0);
  const int64_t seq = 32;
  const auto device = editgate::bench::bench_device();
  auto model = editgate::fixtures::init_gpt2(shape, 0, device);
  const auto sync = [&] {
    if (device.is_cuda()) torch::cuda::synchronize();
  };
  std::vector<editgate::harness::ScoreItem> items;
  for (int64_t b = 0; b < batch; ++b) {
    editgate::harness::ScoreItem it;
    for (int64_t t = 0; t < seq - 4; ++t) it.prompt.push_back((b * 31 + t * 7) % shape.vocab_size);
    for (int64_t t = 0; t < 5; ++t) it.continuation.push_back((b + t * 13) % shape.vocab_size);
    items.push_back(std::move(it));
  }
  // Check once before timing: finite log-probs for every token.
  for (const auto& r : editgate::harness::score(*model, items, batch)) {
    for (double lp : r.token_logprobs) {
      if (!std::isfinite(lp) || lp > 0) state.SkipWithError("non-finite or positive log-prob");
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) {
    auto out = editgate::harness::score(*model, items, batch);  // copies results to CPU: synchronises
    benchmark::DoNotOptimize(out);
  }
  sync();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double tokens = static_cast<double>(batch * seq);
  const double flops = forward_flops(shape, seq) * batch;
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(tokens));
  state.counters["tokens_per_second"] = benchmark::Counter(tokens, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["flops_per_second"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
  const double peak = editgate::bench::measured_matmul_flops(device);
  state.counters["roofline_fraction"] = flops * static_cast<double>(state.iterations()) / seconds / peak;
}

void BM_ScoreBatchFixtureShape(benchmark::State& state) {
  score_batch(state, Gpt2Shape{4, 128, 4, 64, 1000, 0, 0});
}
void BM_ScoreBatchGpt2SmallShape(benchmark::State& state) {
  score_batch(state, Gpt2Shape{12, 768, 12, 1024, 50257, 0, 0});
}

BENCHMARK(BM_ScoreBatchFixtureShape)->Arg(1)->Arg(8)->Arg(64)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ScoreBatchGpt2SmallShape)->Arg(1)->Arg(8)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
