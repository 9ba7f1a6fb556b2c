// Editor costs on random-weight models (bench_models.h):
// second-moment statistics (tokens/s, achieved FLOP/s and its roofline
// fraction), ROME time per edit split into k*, v* and the update, MEMIT at
// 10/100/1000 edits, and MEMIT's z optimisation batched against the
// reference's serial loop (one request per optimisation) at the same edit
// counts, both in the same run. The fixture shape always; GPT-2 XL and GPT-J
// shapes where the device holds them (large_shape_fits). Llama-architecture
// shapes (statistics, ROME and its v* search; no MEMIT): a tiny one always,
// Llama-3-8B's where the device holds it. GPT-J, Pythia and Gemma 3 shapes:
// tiny ones always, GPT-J's, Pythia-1.4B's and Gemma 3 1B's where the device holds them. Each benchmark checks
// its result once before timing; times are per iteration (CUDA events on CUDA).

#include <ATen/ATen.h>
#include <benchmark/benchmark.h>
#include <c10/core/GradMode.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "editors/context_templates.h"
#include "editors/memit.h"
#include "editors/rome.h"
#include "editors/second_moment.h"
#include "editors/value_optimizer.h"
#include "suites/bench/bench_models.h"
#include "suites/bench/bench_timer.h"
#include "suites/bench/device_peak.h"

namespace {

using editgate::fixtures::Gpt2Shape;
using namespace editgate;
using bench::bench_word;

std::vector<editors::EditRequest> bench_requests(int64_t n, int64_t vocab) {
  std::vector<editors::EditRequest> out;
  for (int64_t i = 0; i < n; ++i) {
    editors::EditRequest r;
    r.case_id = std::to_string(i);
    r.subject = bench_word(7 * i + 11, vocab) + " " + bench_word(13 * i + 5, vocab);
    r.prompt = bench_word(i, vocab) + " {} " + bench_word(i + 3, vocab) + " " + bench_word(i + 4, vocab);
    r.target_new = bench_word(3 * i + 1, vocab);
    out.push_back(r);
  }
  return out;
}

editors::TextCorpus bench_corpus(int64_t docs, int64_t words, int64_t vocab) {
  std::vector<std::string> d;
  for (int64_t i = 0; i < docs; ++i) {
    std::string s;
    for (int64_t w = 0; w < words; ++w) s += (w ? " " : "") + bench_word(i * 31 + w * 17, vocab);
    d.push_back(std::move(s));
  }
  return editors::TextCorpus::from_documents("bench", std::move(d));
}

void set_roofline(benchmark::State& state, double flops_per_iteration, double seconds) {
  state.counters["flops_per_second"] =
      benchmark::Counter(flops_per_iteration, benchmark::Counter::kIsIterationInvariantRate);
  const double peak = bench::measured_matmul_flops(bench::bench_device());
  state.counters["roofline_fraction"] = flops_per_iteration * static_cast<double>(state.iterations()) / seconds / peak;
}

// Args: (layers collected in one pass). FLOPs: the forward up to the last
// collected layer plus Σ k kᵀ (2 d_mlp² per token and layer, in float64).
// Shape: fixtures::Gpt2Shape, bench::LlamaShape, bench::ParallelShape or bench::Gemma3Shape, here and in the
// other benchmarks of this file.
template <class Shape>
void mom2_stats(benchmark::State& state, const Shape& shape, int64_t first_layer, int64_t docs) {
  harness::TextModel& tm = bench::bench_model(shape);
  const int64_t seq = std::min<int64_t>(shape.n_positions, 256);
  const editors::TextCorpus corpus = bench_corpus(docs, seq - 1, shape.vocab_size);
  editors::SecondMomentOptions o;
  for (int64_t l = 0; l < state.range(0); ++l) o.layers.push_back(first_layer + l);
  o.max_length = seq;
  o.show_progress = false;
  const auto first = editors::compute_second_moments(tm, corpus, o);  // check once
  if (!first.front().mom2.isfinite().all().item<bool>()) state.SkipWithError("non-finite statistic");
  const int64_t tokens = first.front().n_tokens;
  const double seconds = bench::timed_iterations(state, [&] {
    auto s = editors::compute_second_moments(tm, corpus, o);
    benchmark::DoNotOptimize(s);
  });
  const double d_mlp = static_cast<double>(bench::mlp_width(shape));
  const int64_t last = first_layer + state.range(0);
  Shape through = shape;
  through.n_layer = last;
  through.vocab_size = 0;  // no unembedding: the pass stops after the last collected layer
  const double flops = bench::forward_flops(through, seq) / static_cast<double>(seq) * static_cast<double>(tokens) +
                       static_cast<double>(state.range(0)) * 2.0 * d_mlp * d_mlp * static_cast<double>(tokens);
  state.SetItemsProcessed(state.iterations() * tokens);
  state.counters["tokens_per_second"] =
      benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsIterationInvariantRate);
  set_roofline(state, flops, seconds);
}

// One ROME edit per iteration (C given: its cost is BM_Mom2Stats'), the weight restored between iterations.
template <class Shape>
void rome_edit(benchmark::State& state, const Shape& shape, int64_t layer) {
  harness::TextModel& tm = bench::bench_model(shape);
  editors::RomeHparams h;
  h.layer = layer;
  h.value.early_stop_loss = 0;  // always the full v_num_grad_steps: comparable timings
  h.value.allow_tf32 = state.range(0) != 0;  // Arg 0: fp32 throughout; 1: the default (TF32 δ search on CUDA)
  const editors::TextCorpus corpus = bench_corpus(8, 32, shape.vocab_size);
  const auto c = editors::compute_second_moments(tm, corpus, {{layer}, 0, 8, 0, at::kFloat, {}, {}, false})[0].mom2;
  const auto c_inv = editors::rome_inverse_mom2(c, 1e-4);
  const auto templates = editors::sample_context_templates(tm, h.context, 0);
  const std::vector<editors::EditRequest> reqs = bench_requests(64, shape.vocab_size);
  // The matrix editors/rome.cpp edits: GPT-2's mlp.c_proj, Llama's and Gemma's mlp.down_proj, GPT-J's mlp.fc_out.
  auto w = tm.model().weight("blocks." + std::to_string(layer) + ".mlp.W_out");
  const auto original = w.clone();
  const auto restore = [&] {
    c10::NoGradGuard ng;
    w.copy_(original);
  };
  {  // check once: W'k = v* at the insert key
    const auto up = editors::apply_rome(tm, {reqs[0]}, h, templates, c_inv)[0];
    const auto err = (at::mv(up.delta_w.to(up.key_insert.device(), at::kDouble), up.key_insert.to(at::kDouble)) -
                      up.residual.to(at::kDouble)).norm() / up.residual.to(at::kDouble).norm();
    if (err.item<double>() > 1e-4) state.SkipWithError("W'k != v*");
    restore();
  }
  double key = 0, value = 0, update = 0;
  size_t i = 0;
  bench::timed_iterations(
      state,
      [&] {
        const auto up = editors::apply_rome(tm, {reqs[i++ % reqs.size()]}, h, templates, c_inv)[0];
        key += up.key_seconds;
        value += up.value_seconds;
        update += up.update_seconds;
      },
      restore);
  const auto n = static_cast<double>(state.iterations());
  state.SetItemsProcessed(state.iterations());
  state.counters["key_s"] = key / n;
  state.counters["value_s"] = value / n;
  state.counters["update_s"] = update / n;
  state.counters["tf32"] = h.value.allow_tf32 ? 1 : 0;
}

// ROME's v* search alone for one request, range(0) = 0: every step runs whole
// rows; 1: the tokens before the subject's last token run once into a KV cache
// (the default); 2: that, with the host looking at the early stop every step
// instead of every 8th on CUDA (1 and 2 are the same on CPU). The same δ every
// way (ValueOptimizer.PrefixCacheChangesNothing, .StopCheckIntervalChangesNothing).
template <class Shape>
void value_search(benchmark::State& state, const Shape& shape, int64_t layer) {
  harness::TextModel& tm = bench::bench_model(shape);
  editors::RomeHparams h;
  h.value.early_stop_loss = 0;  // always the full v_num_grad_steps
  const auto templates = editors::sample_context_templates(tm, h.context, 0);
  const std::vector<editors::EditRequest> reqs = bench_requests(16, shape.vocab_size);
  editors::ValueOptions o;
  o.cache_prefix = state.range(0) != 0;
  if (state.range(0) == 2) o.stop_check_every = 1;
  const harness::HookPoint point{layer, harness::HookSite::kMlpWOut};  // ROME's value point
  size_t i = 0;
  bench::timed_iterations(state, [&] {
    const auto v = editors::optimize_values(tm, {reqs[i++ % reqs.size()]}, templates, point, h.value, o);
    benchmark::DoNotOptimize(v);
  });
  state.SetItemsProcessed(state.iterations());
  state.counters["cache_prefix"] = o.cache_prefix ? 1 : 0;
  state.counters["host_looks_every_step"] = state.range(0) == 2 ? 1 : 0;
}

struct MemitSetup {
  editors::MemitHparams h;
  std::map<int64_t, at::Tensor> mom2;
  std::vector<std::string> templates;
};

template <class Shape>
MemitSetup memit_setup(harness::TextModel& tm, const Shape& shape, const std::vector<int64_t>& layers) {
  MemitSetup s;
  s.h.layers = layers;
  s.h.context.seed_words.clear();
  s.h.value.early_stop_loss = 0;
  editors::SecondMomentOptions so;
  so.layers = layers;
  so.show_progress = false;
  for (auto& m : editors::compute_second_moments(tm, bench_corpus(8, 32, shape.vocab_size), so)) s.mom2[m.layer] = m.mom2;
  s.templates = editors::sample_context_templates(tm, s.h.context, 0);
  return s;
}

// One MEMIT batch of range(0) edits per iteration (z, keys, solves), weights restored after.
template <class Shape>
void memit_edits(benchmark::State& state, const Shape& shape, std::vector<int64_t> layers) {
  auto& tm = bench::bench_model(shape);
  const auto s = memit_setup(tm, shape, layers);
  const auto reqs = bench_requests(state.range(0), shape.vocab_size);
  std::map<int64_t, at::Tensor> originals;
  for (int64_t l : layers) originals[l] = tm.model().weight("blocks." + std::to_string(l) + ".mlp.W_out").clone();
  const auto restore = [&] {
    c10::NoGradGuard ng;
    for (auto& [l, w] : originals) tm.model().weight("blocks." + std::to_string(l) + ".mlp.W_out").copy_(w);
  };
  double z = 0, keys = 0, solves = 0;
  bench::timed_iterations(
      state,
      [&] {
        const auto r = editors::apply_memit(tm, reqs, s.h, s.templates, s.mom2, editors::MemitSolver::kMemit);
        // Checked on every (single) iteration: the edit is the result, not a side effect.
        if (!std::isfinite(r.final_residual_norm)) state.SkipWithError("non-finite residual");
        z += r.value_seconds;
        keys += r.key_seconds;
        solves += r.solve_seconds;
      },
      restore);
  const auto n = static_cast<double>(state.iterations());
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["z_s"] = z / n;
  state.counters["keys_s"] = keys / n;
  state.counters["solves_s"] = solves / n;
}

// MEMIT's z optimisation for range(0) requests: batched (all requests share
// each forward/backward pass) or serial (the reference's loop, one request per
// optimisation). Serial runs range(1) requests when range(1) > 0 (a sample,
// for shapes where the whole loop takes too long) and reports the time scaled
// to range(0) requests as extrapolated_s; the timed value is the sample's.
template <class Shape>
void memit_z(benchmark::State& state, const Shape& shape, std::vector<int64_t> layers, bool serial) {
  auto& tm = bench::bench_model(shape);
  const auto s = memit_setup(tm, shape, layers);
  const int64_t n = state.range(0);
  const int64_t run = serial && state.range(1) > 0 ? std::min(n, state.range(1)) : n;
  const auto reqs = bench_requests(run, shape.vocab_size);
  const auto point = harness::HookPoint{layers.back(), harness::HookSite::kResidPost};
  const auto optimise = [&](const std::vector<editors::EditRequest>& batch) {
    if (!serial) return editors::optimize_values(tm, batch, s.templates, point, s.h.value);
    std::vector<editors::ValueResult> out;
    for (const auto& r : batch) out.push_back(editors::optimize_values(tm, {r}, s.templates, point, s.h.value)[0]);
    return out;
  };
  {  // check once, on two requests (a full extra run would double the cost): finite δ, at least one step each
    const auto first = optimise({reqs.begin(), reqs.begin() + std::min<int64_t>(2, run)});
    if (first.size() != static_cast<size_t>(std::min<int64_t>(2, run))) state.SkipWithError("one δ per request expected");
    for (const auto& v : first) {
      if (!v.delta.isfinite().all().template item<bool>() || v.steps < 1) {
        state.SkipWithError("non-finite delta or no optimisation step");
      }
    }
  }
  const double seconds = bench::timed_iterations(state, [&] {
    auto out = optimise(reqs);
    benchmark::DoNotOptimize(out);
  });
  state.SetItemsProcessed(state.iterations() * run);
  state.counters["requests_timed"] = static_cast<double>(run);
  state.counters["extrapolated_s"] = seconds / static_cast<double>(state.iterations()) * static_cast<double>(n) /
                                     static_cast<double>(run);
}

// The editor benchmarks of a large shape (GPT-2 XL, GPT-J, Pythia-1.4B, Gemma 3 1B), where the device holds it.
template <class Shape>
void register_large(const char* name, const Shape& shape, int64_t rome_layer, std::vector<int64_t> memit_layers) {
  struct Large {
    Shape shape;
    int64_t rome_layer;
    std::vector<int64_t> memit_layers;
  };
  const Large l{shape, rome_layer, std::move(memit_layers)};
  if (!bench::large_shape_fits(l.shape)) return;
  const std::string n = name;
  benchmark::RegisterBenchmark(("BM_Mom2Stats/" + n).c_str(),
                               [l](benchmark::State& s) { mom2_stats(s, l.shape, l.memit_layers.front(), 64); })
      ->Arg(1)->Arg(static_cast<int64_t>(l.memit_layers.size()))->Unit(benchmark::kMillisecond)->UseManualTime()
      ->Iterations(2);
  benchmark::RegisterBenchmark(("BM_ValueSearch/" + n).c_str(),
                               [l](benchmark::State& s) { value_search(s, l.shape, l.rome_layer); })
      ->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(5);
  benchmark::RegisterBenchmark(("BM_RomeEdit/" + n).c_str(), [l](benchmark::State& s) { rome_edit(s, l.shape, l.rome_layer); })
      ->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(5);
  // fp32 z optimisation on these shapes grows linearly with the edits (GPT-2 XL on an H200:
  // 7.7 s at 10, 72 s at 100), so 10 edits here, where gpu_check.sh's time allows; more with
  // --benchmark_filter and EDITGATE_BENCH_MEMIT_LARGE=1 (100 edits; serial timed on 20, scaled).
  const bool more = std::getenv("EDITGATE_BENCH_MEMIT_LARGE") != nullptr;
  auto* edits = benchmark::RegisterBenchmark(("BM_MemitEdits/" + n).c_str(),
                                             [l](benchmark::State& s) { memit_edits(s, l.shape, l.memit_layers); });
  edits->Arg(10)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(1);
  auto* batched = benchmark::RegisterBenchmark(("BM_MemitZBatched/" + n).c_str(), [l](benchmark::State& s) {
    memit_z(s, l.shape, l.memit_layers, false);
  });
  batched->Args({10, 0})->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(1);
  auto* serial = benchmark::RegisterBenchmark(("BM_MemitZSerial/" + n).c_str(), [l](benchmark::State& s) {
    memit_z(s, l.shape, l.memit_layers, true);
  });
  serial->Args({10, 0})->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(1);
  if (more) {
    edits->Arg(100);
    batched->Args({100, 0});
    serial->Args({100, 20});
  }
}

// Statistics over layers 0 and 0-1, a ROME edit at layer 1 and MEMIT over both of a
// two-layer toy: the architecture end to end on every run.
template <class Shape>
void register_tiny(const std::string& name, const Shape& shape) {
  benchmark::RegisterBenchmark(("BM_Mom2Stats/" + name).c_str(),
                               [shape](benchmark::State& s) { mom2_stats(s, shape, 0, 64); })
      ->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseManualTime();
  benchmark::RegisterBenchmark(("BM_RomeEdit/" + name).c_str(), [shape](benchmark::State& s) { rome_edit(s, shape, 1); })
      ->Arg(1)->Unit(benchmark::kMillisecond)->UseManualTime();
  benchmark::RegisterBenchmark(("BM_MemitEdits/" + name).c_str(),
                               [shape](benchmark::State& s) { memit_edits(s, shape, {0, 1}); })
      ->Arg(10)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(1);
}

// Fixture shape: cheap enough for every CPU run. Large shapes: see large_shape_fits.
const bool kRegistered = [] {
  using bench::kFixtureShape;
  benchmark::RegisterBenchmark("BM_Mom2Stats/fixture", [](benchmark::State& s) { mom2_stats(s, kFixtureShape, 0, 64); })
      ->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseManualTime();
  benchmark::RegisterBenchmark("BM_RomeEdit/fixture", [](benchmark::State& s) { rome_edit(s, kFixtureShape, 0); })
      ->Arg(1)->Unit(benchmark::kMillisecond)->UseManualTime();
  benchmark::RegisterBenchmark("BM_ValueSearch/fixture", [](benchmark::State& s) { value_search(s, kFixtureShape, 0); })
      ->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseManualTime();
  // The Llama path end to end (GQA, SwiGLU, RoPE, BOS) on every run; timings of a toy.
  using bench::kTinyLlamaShape;
  benchmark::RegisterBenchmark("BM_Mom2Stats/llama-tiny", [](benchmark::State& s) { mom2_stats(s, kTinyLlamaShape, 0, 64); })
      ->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseManualTime();
  benchmark::RegisterBenchmark("BM_RomeEdit/llama-tiny", [](benchmark::State& s) { rome_edit(s, kTinyLlamaShape, 1); })
      ->Arg(1)->Unit(benchmark::kMillisecond)->UseManualTime();
  benchmark::RegisterBenchmark("BM_ValueSearch/llama-tiny", [](benchmark::State& s) { value_search(s, kTinyLlamaShape, 1); })
      ->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseManualTime();
  // GPT-J's and NeoX's blocks (parallel attention/MLP, partial rotary) and Gemma 3's (post-norms,
  // sliding and global layers, tied embeddings) end to end on every run.
  register_tiny("gptj-tiny", bench::kTinyGptjShape);
  register_tiny("pythia-tiny", bench::kTinyPythiaShape);
  register_tiny("gemma3-tiny", bench::kTinyGemma3Shape);
  benchmark::RegisterBenchmark("BM_MemitEdits/fixture", [](benchmark::State& s) { memit_edits(s, kFixtureShape, {0, 1}); })
      ->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(1);
  // Serial z on CUDA is launch-bound (~60 ms per request here): 100 of 1000 timed, scaled.
  const int64_t fixture_sample = bench::bench_device().is_cuda() ? 100 : 0;
  for (bool serial : {false, true}) {
    benchmark::RegisterBenchmark(serial ? "BM_MemitZSerial/fixture" : "BM_MemitZBatched/fixture",
                                 [serial](benchmark::State& s) { memit_z(s, kFixtureShape, {0, 1}, serial); })
        ->Args({10, 0})->Args({100, 0})->Args({1000, serial ? fixture_sample : 0})
        ->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(1);
  }
  register_large("gpt2-xl", bench::kGpt2XlShape, 17, {13, 14, 15, 16, 17});
  register_large("gpt-j", bench::kGptJShape, 5, {3, 4, 5, 6, 7, 8});
  // Pythia-1.4B: no published ROME/MEMIT layers; GPT-J's (5; 3-8) for comparable timings.
  register_large("pythia-1.4b", bench::kPythia1_4bShape, 5, {3, 4, 5, 6, 7, 8});
  // Gemma 3 1B: no published ROME/MEMIT layers; Gemma 3 270M's (editors/hparams: ROME 3,
  // MEMIT 1-5 of 18 layers, from editgate trace) scaled by depth to 26 layers: 3 x 26/18 = 4.3
  // -> 4, 1-5 -> 1.4-7.2 -> 1-7.
  register_large("gemma3-1b", bench::kGemma3_1bShape, 4, {1, 2, 3, 4, 5, 6, 7});
  // Llama-3-8B: ROME at layer 5 (model.layers.5.mlp.down_proj, the layer EasyEdit's ROME
  // hyperparameters for Llama-3-8B edit); statistics over layer 4 and layers 4-8, around it as
  // GPT-J's 3-8 are around its 5. Few iterations: one v* search is 20 forward/backward passes
  // through 32 layers of an 8B model.
  if (bench::large_shape_fits(bench::kLlama3_8bShape)) {
    using bench::kLlama3_8bShape;
    benchmark::RegisterBenchmark("BM_Mom2Stats/llama3-8b", [](benchmark::State& s) { mom2_stats(s, kLlama3_8bShape, 4, 64); })
        ->Arg(1)->Arg(5)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(2);
    benchmark::RegisterBenchmark("BM_ValueSearch/llama3-8b", [](benchmark::State& s) { value_search(s, kLlama3_8bShape, 5); })
        ->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(3);
    benchmark::RegisterBenchmark("BM_RomeEdit/llama3-8b", [](benchmark::State& s) { rome_edit(s, kLlama3_8bShape, 5); })
        ->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseManualTime()->Iterations(2);
  }
  return true;
}();

}  // namespace
