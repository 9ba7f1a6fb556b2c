// Editor costs: second-moment statistics throughput (tokens/s), ROME time per
// edit split into k*, v* and the update, and MEMIT time against the number of
// edits (10, 100, 1000: the batched z optimisation is where editgate must beat
// the reference's serial loop). Random-weight GPT-2 models of the fixture's
// shape and, on CUDA or with EDITGATE_BENCH_XL=1, of GPT-2 XL's (timing needs no
// trained weights). Each benchmark checks its result once before timing.

#include <ATen/ATen.h>
#include <benchmark/benchmark.h>
#include <c10/core/GradMode.h>
#include <torch/cuda.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>

#include "editors/context_templates.h"
#include "editors/memit.h"
#include "editors/rome.h"
#include "editors/second_moment.h"
#include "fixtures/gpt2_init.h"
#include "harness/checkpoint.h"
#include "harness/wordlevel_tokenizer.h"
#include "suites/bench/device_peak.h"

namespace {

namespace fs = std::filesystem;
using editgate::fixtures::Gpt2Shape;
using namespace editgate;

const Gpt2Shape kFixtureShape{4, 128, 4, 64, 512, 0, 0};
const Gpt2Shape kXlShape{48, 1600, 25, 1024, 50257, 0, 0};

// A random-weight GPT-2 with a word-level tokenizer ("<bos>", "w1", ...), saved
// once per shape under the temp dir and loaded on the bench device.
harness::TextModel& bench_model(const Gpt2Shape& shape) {
  static std::map<int64_t, std::unique_ptr<harness::TextModel>> models;
  auto& slot = models[shape.d_model];
  if (slot) return *slot;
  const fs::path dir = fs::temp_directory_path() / ("editgate_bench_gpt2_" + std::to_string(shape.d_model));
  if (!fs::exists(dir / "tokenizer.json")) {
    c10::NoGradGuard ng;
    const auto model = fixtures::init_gpt2(shape, 0, at::kCPU);
    const fs::path empty = dir.string() + ".src";
    fs::create_directories(empty);
    harness::save_model(*model, dir, empty);
    std::vector<std::string> words = {"<bos>"};
    for (int64_t i = 1; i < shape.vocab_size - 1; ++i) words.push_back("w" + std::to_string(i));
    std::ofstream(dir / "tokenizer.json") << harness::wordlevel_tokenizer_json(words, "<unk>", {"<bos>"});
  }
  harness::LoadOptions o;
  o.device = bench::bench_device().str();
  slot = std::make_unique<harness::TextModel>(harness::TextModel::load(dir, o));
  return *slot;
}

std::string word(int64_t i, int64_t vocab) { return "w" + std::to_string(1 + i % (vocab - 3)); }

std::vector<editors::EditRequest> bench_requests(int64_t n, int64_t vocab) {
  std::vector<editors::EditRequest> out;
  for (int64_t i = 0; i < n; ++i) {
    editors::EditRequest r;
    r.case_id = std::to_string(i);
    r.subject = word(7 * i + 11, vocab) + " " + word(13 * i + 5, vocab);
    r.prompt = word(i, vocab) + " {} " + word(i + 3, vocab) + " " + word(i + 4, vocab);
    r.target_new = word(3 * i + 1, vocab);
    out.push_back(r);
  }
  return out;
}

editors::TextCorpus bench_corpus(int64_t docs, int64_t words, int64_t vocab) {
  std::vector<std::string> d;
  for (int64_t i = 0; i < docs; ++i) {
    std::string s;
    for (int64_t w = 0; w < words; ++w) s += (w ? " " : "") + word(i * 31 + w * 17, vocab);
    d.push_back(std::move(s));
  }
  return editors::TextCorpus::from_documents("bench", std::move(d));
}

void sync() {
  if (bench::bench_device().is_cuda()) torch::cuda::synchronize();
}

bool xl_enabled() {
  const char* env = std::getenv("EDITGATE_BENCH_XL");
  return bench::bench_device().is_cuda() || (env != nullptr && std::string(env) == "1");
}

// Args: (layers collected in one pass).
void mom2_stats(benchmark::State& state, const Gpt2Shape& shape, int64_t first_layer) {
  auto& tm = bench_model(shape);
  const int64_t seq = std::min<int64_t>(shape.n_positions, 256);
  const auto corpus = bench_corpus(64, seq - 1, shape.vocab_size);
  editors::SecondMomentOptions o;
  for (int64_t l = 0; l < state.range(0); ++l) o.layers.push_back(first_layer + l);
  o.max_length = seq;
  o.show_progress = false;
  int64_t tokens = 0;
  for (auto _ : state) {
    const auto s = editors::compute_second_moments(tm, corpus, o);
    sync();
    tokens = s.front().n_tokens;
    if (!s.front().mom2.isfinite().all().item<bool>()) state.SkipWithError("non-finite statistic");
  }
  state.SetItemsProcessed(state.iterations() * tokens);
  state.counters["tokens_per_second"] = benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsIterationInvariantRate);
}

// One ROME edit per iteration (C given: its cost is BM_Mom2Stats'), weights restored between iterations.
void rome_edit(benchmark::State& state, const Gpt2Shape& shape, int64_t layer) {
  auto& tm = bench_model(shape);
  editors::RomeHparams h;
  h.layer = layer;
  h.value.early_stop_loss = 0;  // always the full v_num_grad_steps: comparable timings
  const auto c = editors::compute_second_moments(tm, bench_corpus(8, 32, shape.vocab_size), {{layer}, 0, 8, 0, at::kFloat, {}, {}, false})[0].mom2;
  const auto c_inv = editors::rome_inverse_mom2(c, 1e-4);
  const auto templates = editors::sample_context_templates(tm, h.context, 0);
  const auto reqs = bench_requests(64, shape.vocab_size);
  auto w = tm.model().weight("blocks." + std::to_string(layer) + ".mlp.W_out");
  const auto original = w.clone();
  {  // check once: W'k = v* at the insert key
    const auto up = editors::apply_rome(tm, {reqs[0]}, h, templates, c_inv)[0];
    const auto err = (at::mv(up.delta_w, up.key_insert) - up.residual).norm() / up.residual.norm();
    if (err.item<double>() > 1e-6) state.SkipWithError("W'k != v*");
    c10::NoGradGuard ng;
    w.copy_(original);
  }
  double key = 0, value = 0, update = 0;
  size_t i = 0;
  for (auto _ : state) {
    const auto up = editors::apply_rome(tm, {reqs[i++ % reqs.size()]}, h, templates, c_inv)[0];
    sync();
    key += up.key_seconds;
    value += up.value_seconds;
    update += up.update_seconds;
    state.PauseTiming();
    c10::NoGradGuard ng;
    w.copy_(original);
    state.ResumeTiming();
  }
  const auto n = static_cast<double>(state.iterations());
  state.counters["key_s"] = key / n;
  state.counters["value_s"] = value / n;
  state.counters["update_s"] = update / n;
}

// One MEMIT batch of range(0) edits per iteration.
void memit_edits(benchmark::State& state, const Gpt2Shape& shape, std::vector<int64_t> layers) {
  auto& tm = bench_model(shape);
  editors::MemitHparams h;
  h.layers = layers;
  h.context.seed_words.clear();
  h.value.early_stop_loss = 0;
  std::map<int64_t, at::Tensor> mom2;
  editors::SecondMomentOptions so;
  so.layers = layers;
  so.show_progress = false;
  for (auto& s : editors::compute_second_moments(tm, bench_corpus(8, 32, shape.vocab_size), so)) mom2[s.layer] = s.mom2;
  const auto templates = editors::sample_context_templates(tm, h.context, 0);
  const auto reqs = bench_requests(state.range(0), shape.vocab_size);
  std::map<int64_t, at::Tensor> originals;
  for (int64_t l : layers) originals[l] = tm.model().weight("blocks." + std::to_string(l) + ".mlp.W_out").clone();
  const auto restore = [&] {
    c10::NoGradGuard ng;
    for (auto& [l, w] : originals) tm.model().weight("blocks." + std::to_string(l) + ".mlp.W_out").copy_(w);
  };
  double z = 0, keys = 0, solves = 0;
  for (auto _ : state) {
    const auto r = editors::apply_memit(tm, reqs, h, templates, mom2, editors::MemitSolver::kMemit);
    sync();
    if (!std::isfinite(r.final_residual_norm)) state.SkipWithError("non-finite residual");
    z += r.value_seconds;
    keys += r.key_seconds;
    solves += r.solve_seconds;
    state.PauseTiming();
    restore();
    state.ResumeTiming();
  }
  const auto n = static_cast<double>(state.iterations());
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["z_s"] = z / n;
  state.counters["keys_s"] = keys / n;
  state.counters["solves_s"] = solves / n;
}

void BM_Mom2StatsFixtureShape(benchmark::State& s) { mom2_stats(s, kFixtureShape, 0); }
void BM_RomeEditFixtureShape(benchmark::State& s) { rome_edit(s, kFixtureShape, 0); }
void BM_MemitEditsFixtureShape(benchmark::State& s) { memit_edits(s, kFixtureShape, {0, 1}); }
BENCHMARK(BM_Mom2StatsFixtureShape)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_RomeEditFixtureShape)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MemitEditsFixtureShape)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

// GPT-2 XL shapes (ROME layer 17, MEMIT layers 13-17), registered only where they finish in minutes.
const bool kXlRegistered = [] {
  if (!xl_enabled()) return false;
  benchmark::RegisterBenchmark("BM_Mom2StatsGpt2XlShape", [](benchmark::State& s) { mom2_stats(s, kXlShape, 13); })
      ->Arg(1)->Arg(5)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
  benchmark::RegisterBenchmark("BM_RomeEditGpt2XlShape", [](benchmark::State& s) { rome_edit(s, kXlShape, 17); })
      ->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);
  benchmark::RegisterBenchmark("BM_MemitEditsGpt2XlShape",
                               [](benchmark::State& s) { memit_edits(s, kXlShape, {13, 14, 15, 16, 17}); })
      ->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);
  return true;
}();

}  // namespace
