// GRACE's inference cost against the codebook's size: batched scoring
// (64 sequences of 32 tokens) on a random-weight GPT-2 of the fixture's shape
// with a codebook of 0 (no adapter: the base), 10, 100 and 1000 entries at
// layer 2. Every position is compared with every key (one [positions, entries]
// distance matmul), so the cost grows linearly with the entries. The keys are
// activations of the scored batch itself with a tiny radius, so the
// replacement path runs too (hits are counted and checked once before timing).

#include <ATen/ATen.h>
#include <benchmark/benchmark.h>
#include <c10/core/GradMode.h>

#include <chrono>
#include <memory>

#include "fixtures/gpt2_init.h"
#include "harness/codebook_adapter.h"
#include "harness/scoring.h"
#include "suites/bench/device_peak.h"

namespace {

using namespace editgate;

void BM_GraceCodebookScoring(benchmark::State& state) {
  const int64_t entries = state.range(0);
  const int64_t batch = 64, seq = 32, layer = 2;
  const fixtures::Gpt2Shape shape{4, 128, 4, 64, 1000, 0, 0};
  c10::NoGradGuard ng;
  auto model = fixtures::init_gpt2(shape, 0, bench::bench_device());
  std::vector<harness::ScoreItem> items;
  for (int64_t b = 0; b < batch; ++b) {
    harness::ScoreItem it;
    for (int64_t t = 0; t < seq - 4; ++t) it.prompt.push_back((b * 31 + t * 7) % shape.vocab_size);
    for (int64_t t = 0; t < 4; ++t) it.continuation.push_back((b + t * 13) % shape.vocab_size);
    items.push_back(std::move(it));
  }
  // Keys: the layer's inputs at `entries` distinct positions of the batch.
  auto acts = std::make_shared<at::Tensor>();
  {
    auto h = model->hooks().add({layer, harness::HookSite::kMlpPost}, harness::cache_into(acts));
    harness::score(*model, items, batch);
  }
  const auto flat = acts->flatten(0, 1).to(at::kCPU, at::kFloat);  // [batch*seq, d_mlp]
  harness::Codebook cb = harness::Codebook::empty(model->config(), layer);
  cb.keys = flat.index_select(0, at::randperm(flat.size(0), at::kLong).narrow(0, 0, entries)).contiguous();
  cb.values = at::randn({entries, model->config().d_model});
  cb.radii = at::full({entries}, 1e-3, at::kFloat);
  cb.labels.assign(static_cast<size_t>(entries), "x");
  cb.case_ids.assign(static_cast<size_t>(entries), {"0"});
  std::unique_ptr<harness::CodebookAdapter> adapter;
  if (entries > 0) adapter = std::make_unique<harness::CodebookAdapter>(*model, cb);
  // Check once: with a codebook, some positions hit (so the replacement path is timed).
  const auto dev_cb = [&] {
    auto c = cb;
    c.keys = c.keys.to(model->device());
    c.radii = c.radii.to(model->device());
    return c;
  }();
  const int64_t hits = entries > 0 ? (harness::codebook_hits(dev_cb, acts->flatten(0, 1)) >= 0).sum().item<int64_t>() : 0;
  if (entries > 0 && hits == 0) state.SkipWithError("no position hit the codebook");
  for (auto _ : state) {
    auto out = harness::score(*model, items, batch);  // copies to CPU: synchronises
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations() * batch * seq);
  state.counters["entries"] = static_cast<double>(entries);
  state.counters["positions_hit"] = static_cast<double>(hits);
  state.counters["tokens_per_second"] = benchmark::Counter(static_cast<double>(batch * seq),
                                                           benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK(BM_GraceCodebookScoring)->Arg(0)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
