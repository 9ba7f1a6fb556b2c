// Batched scoring throughput (the primitive every suite measures through):
// BM_ScoreBatch, equal-length rows scored on 5 tokens; BM_ScoreFacts, the
// suites' short fact prompts of mixed length. tokens/s and achieved FLOP/s as a fraction of the device's measured matmul
// FLOP/s, on random-weight models (bench_models.h): the fixture's, GPT-2
// small's and tiny Llama, GPT-J, Pythia and Gemma 3 shapes everywhere, GPT-2 XL's,
// GPT-J's, Pythia-1.4B's, Gemma 3 1B's and Llama-3-8B's where the device holds them.

#include <ATen/ATen.h>
#include <benchmark/benchmark.h>

#include <cmath>

#include "harness/scoring.h"
#include "suites/bench/bench_models.h"
#include "suites/bench/bench_timer.h"
#include "suites/bench/device_peak.h"

namespace {

namespace bench = editgate::bench;

// Args: (batch, sequence length). Shape: fixtures::Gpt2Shape, bench::LlamaShape, bench::ParallelShape or
// bench::Gemma3Shape.
template <class Shape>
void score_batch(benchmark::State& state, const Shape& shape) {
  const int64_t batch = state.range(0);
  const int64_t seq = state.range(1);
  const auto device = bench::bench_device();
  editgate::harness::Transformer& model = bench::bench_model(shape).model();  // shared with the editor benchmarks of this shape
  std::vector<editgate::harness::ScoreItem> items;
  for (int64_t b = 0; b < batch; ++b) {
    editgate::harness::ScoreItem it;
    for (int64_t t = 0; t < seq - 4; ++t) it.prompt.push_back((b * 31 + t * 7) % shape.vocab_size);
    for (int64_t t = 0; t < 5; ++t) it.continuation.push_back((b + t * 13) % shape.vocab_size);
    items.push_back(std::move(it));
  }
  // Check once before timing: the FLOP and byte counts below match the model's tensors,
  // and every token gets a finite, non-positive log-prob.
  if (const auto err = bench::shape_arithmetic_error(shape, model); !err.empty()) state.SkipWithError(err.c_str());
  for (const auto& r : editgate::harness::score(model, items, batch)) {
    for (double lp : r.token_logprobs) {
      if (!std::isfinite(lp) || lp > 0) state.SkipWithError("non-finite or positive log-prob");
    }
  }
  const double seconds = bench::timed_iterations(state, [&] {
    auto out = editgate::harness::score(model, items, batch);
    benchmark::DoNotOptimize(out);
  });
  const double tokens = static_cast<double>(batch * seq);
  const double flops = bench::forward_flops(shape, seq) * static_cast<double>(batch);
  state.SetItemsProcessed(state.iterations() * batch * seq);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(4.0 * bench::parameter_count(shape)));
  state.counters["tokens_per_second"] = benchmark::Counter(tokens, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["flops_per_second"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
  const double peak = bench::measured_matmul_flops(device);
  state.counters["roofline_fraction"] = flops * static_cast<double>(state.iterations()) / seconds / peak;
}

// The suites' own workload: fact prompts of 10-30 tokens, each scored on a 1-3 token
// target, all in one call as score_targets makes it (max_batch 128). Item i: prompt
// length 10 + (7 i mod 21), target length 1 + (i mod 3), token ids as score_batch's.
// suites/bench/peer_bench.py rebuilds exactly these items for transformers: keep
// the two in step. Args: (facts).
void score_facts(benchmark::State& state, const editgate::fixtures::Gpt2Shape& shape) {
  const int64_t facts = state.range(0);
  editgate::harness::Transformer& model = bench::bench_model(shape).model();
  std::vector<editgate::harness::ScoreItem> items;
  int64_t tokens = 0;
  for (int64_t i = 0; i < facts; ++i) {
    editgate::harness::ScoreItem it;
    for (int64_t t = 0; t < 10 + (7 * i) % 21; ++t) it.prompt.push_back((i * 31 + t * 7) % shape.vocab_size);
    for (int64_t t = 0; t < 1 + i % 3; ++t) it.continuation.push_back((i + t * 13) % shape.vocab_size);
    tokens += static_cast<int64_t>(it.prompt.size() + it.continuation.size()) - 1;
    items.push_back(std::move(it));
  }
  for (const auto& r : editgate::harness::score(model, items, 128)) {
    for (double lp : r.token_logprobs) {
      if (!std::isfinite(lp) || lp > 0) state.SkipWithError("non-finite or positive log-prob");
    }
  }
  bench::timed_iterations(state, [&] {
    auto out = editgate::harness::score(model, items, 128);
    benchmark::DoNotOptimize(out);
  });
  state.SetItemsProcessed(state.iterations() * facts);
  state.counters["tokens_per_second"] =
      benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsIterationInvariantRate);
}

const bool kRegistered = [] {
  benchmark::RegisterBenchmark("BM_ScoreBatch/fixture", [](benchmark::State& s) { score_batch(s, bench::kFixtureShape); })
      ->Args({1, 32})->Args({8, 32})->Args({64, 32})->Unit(benchmark::kMillisecond)->UseManualTime();
  benchmark::RegisterBenchmark("BM_ScoreBatch/gpt2-small", [](benchmark::State& s) { score_batch(s, bench::kGpt2SmallShape); })
      ->Args({1, 32})->Args({8, 32})->Unit(benchmark::kMillisecond)->UseManualTime();
  benchmark::RegisterBenchmark("BM_ScoreFacts/fixture", [](benchmark::State& s) { score_facts(s, bench::kFixtureShape); })
      ->Arg(64)->Unit(benchmark::kMillisecond)->UseManualTime();
  benchmark::RegisterBenchmark("BM_ScoreFacts/gpt2-small", [](benchmark::State& s) { score_facts(s, bench::kGpt2SmallShape); })
      ->Arg(16)->Unit(benchmark::kMillisecond)->UseManualTime();
  if (bench::large_shape_fits(bench::kGpt2XlShape)) {
    benchmark::RegisterBenchmark("BM_ScoreBatch/gpt2-xl", [](benchmark::State& s) { score_batch(s, bench::kGpt2XlShape); })
        ->Args({8, 128})->Args({32, 128})->Args({64, 256})->Unit(benchmark::kMillisecond)->UseManualTime();
  }
  if (bench::large_shape_fits(bench::kGptJShape)) {
    benchmark::RegisterBenchmark("BM_ScoreBatch/gpt-j", [](benchmark::State& s) { score_batch(s, bench::kGptJShape); })
        ->Args({8, 128})->Args({32, 256})->Unit(benchmark::kMillisecond)->UseManualTime();
  }
  benchmark::RegisterBenchmark("BM_ScoreBatch/llama-tiny", [](benchmark::State& s) { score_batch(s, bench::kTinyLlamaShape); })
      ->Args({1, 32})->Args({8, 32})->Unit(benchmark::kMillisecond)->UseManualTime();
  benchmark::RegisterBenchmark("BM_ScoreBatch/gptj-tiny", [](benchmark::State& s) { score_batch(s, bench::kTinyGptjShape); })
      ->Args({1, 32})->Args({8, 32})->Unit(benchmark::kMillisecond)->UseManualTime();
  benchmark::RegisterBenchmark("BM_ScoreBatch/pythia-tiny", [](benchmark::State& s) { score_batch(s, bench::kTinyPythiaShape); })
      ->Args({1, 32})->Args({8, 32})->Unit(benchmark::kMillisecond)->UseManualTime();
  if (bench::large_shape_fits(bench::kPythia1_4bShape)) {
    benchmark::RegisterBenchmark("BM_ScoreBatch/pythia-1.4b", [](benchmark::State& s) { score_batch(s, bench::kPythia1_4bShape); })
        ->Args({8, 128})->Args({32, 256})->Unit(benchmark::kMillisecond)->UseManualTime();
  }
  benchmark::RegisterBenchmark("BM_ScoreBatch/gemma3-tiny", [](benchmark::State& s) { score_batch(s, bench::kTinyGemma3Shape); })
      ->Args({1, 32})->Args({8, 32})->Unit(benchmark::kMillisecond)->UseManualTime();
  if (bench::large_shape_fits(bench::kGemma3_1bShape)) {
    benchmark::RegisterBenchmark("BM_ScoreBatch/gemma3-1b", [](benchmark::State& s) { score_batch(s, bench::kGemma3_1bShape); })
        ->Args({8, 128})->Args({32, 256})->Unit(benchmark::kMillisecond)->UseManualTime();
  }
  if (bench::large_shape_fits(bench::kLlama3_8bShape)) {
    benchmark::RegisterBenchmark("BM_ScoreBatch/llama3-8b", [](benchmark::State& s) { score_batch(s, bench::kLlama3_8bShape); })
        ->Args({8, 128})->Args({32, 256})->Unit(benchmark::kMillisecond)->UseManualTime();
  }
  return true;
}();

}  // namespace
