// The editors on the trained fixture model (skipped when it is absent; point
// EDITGATE_FIXTURE_DIR at a fixture checkpoint to run elsewhere): 100+ single
// ROME edits each on a fresh copy of the weights, MEMIT and AlphaEdit with 100
// edits in one batch, against the behaviour targets. The numbers are
// printed and recorded as test properties. EDITGATE_FIXTURE_EDITS sets the
// number of ROME edits, EDITGATE_TRACE_WINDOW the tracing window;
// EDITGATE_ROME_HPARAMS / EDITGATE_MEMIT_HPARAMS / EDITGATE_ALPHAEDIT_HPARAMS
// replace the embedded fixture hyperparameters, EDITGATE_MEMIT_CORPUS the
// statistics corpus of every editor here (a file, as `editgate edit --corpus`).

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <set>
#include <string>

#include "editors/context_templates.h"
#include "editors/edit_hparams.h"
#include "editors/embedded_hparams.h"
#include "editors/eraser_hook.h"
#include "editors/grace.h"
#include "editors/memit.h"
#include "editors/rome.h"
#include "editors/locate/causal_trace.h"
#include "editors/second_moment.h"
#include "fixtures/fixture_corpus.h"
#include "tests/editors/fixture_eval.h"

namespace editgate::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The embedded set the CLI picks for the fixture in `dir` ("fixture", or its world
// config's editing.hparams), unless EDITGATE_{METHOD}_HPARAMS names a file.
json hparams(const std::string& method, const fs::path& dir) {
  const auto set = editors::default_hparams_model(dir.string(), harness::ModelConfig{});
  return method_hparams(method, set.value_or("fixture"));
}

int64_t env_int(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::stoll(v) : fallback;
}

// C = E[kk^T] over the fixture's statistics corpus (the CLI's default: packed
// training text, or fact sentences where the world config says so), or over
// EDITGATE_MEMIT_CORPUS (a file, as `editgate edit --corpus`
// reads it) for the statistics-corpus comparison in docs/fixture.md.
editors::TextCorpus statistics_corpus(const harness::TextModel& tm, const fs::path& dir) {
  const char* file = std::getenv("EDITGATE_MEMIT_CORPUS");
  if (file != nullptr && *file != '\0') return editors::TextCorpus::from_file(file);
  return *fixtures::fixture_statistics_corpus(dir, tm.model().config().max_positions - 1);
}

std::map<int64_t, at::Tensor> statistics(harness::TextModel& tm, const fs::path& dir, const std::vector<int64_t>& layers) {
  editors::SecondMomentOptions o;
  o.layers = layers;
  o.show_progress = false;
  std::map<int64_t, at::Tensor> out;
  const auto corpus = statistics_corpus(tm, dir);
  std::cerr << "statistics corpus: " << corpus.name() << "\n";
  for (auto& s : editors::compute_second_moments(tm, corpus, o)) {
    std::cerr << "mom2 layer " << s.layer << ": " << s.n_tokens << " tokens in " << s.seconds << " s\n";
    out[s.layer] = s.mom2;
  }
  return out;
}

class FixtureEdits : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto dir = fixture_dir();
    if (!dir) GTEST_SKIP() << "no fixture model (build it or set EDITGATE_FIXTURE_DIR)";
    dir_ = *dir;
    tm_ = std::make_unique<harness::TextModel>(harness::TextModel::load(dir_));
  }
  // The first EDITGATE_FIXTURE_EDITS (100) requests of the fixture's edit file.
  std::vector<editors::EditRequest> single_edit_requests() const {
    auto requests = editors::load_counterfact_requests(dir_ / "requests" / "edits.counterfact.json");
    requests.resize(std::min<size_t>(requests.size(), static_cast<size_t>(env_int("EDITGATE_FIXTURE_EDITS", 100))));
    return requests;
  }
  fs::path dir_;
  std::unique_ptr<harness::TextModel> tm_;
};

TEST_F(FixtureEdits, RomeSingleEdits) {
  const auto h = editors::parse_rome_hparams(hparams("rome", dir_), "rome/fixture");
  const auto requests = single_edit_requests();
  const EditScorer scorer(*tm_, requests, preservation_facts(dir_, 1000));
  const auto mom2 = h.mom2.adjustment ? statistics(*tm_, dir_, {h.layer}) : std::map<int64_t, at::Tensor>{};
  const auto c_inv = mom2.empty() ? at::Tensor() : editors::rome_inverse_mom2(mom2.at(h.layer), h.mom2.ridge);
  const auto templates = editors::sample_context_templates(*tm_, h.context, 0);
  auto w = tm_->model().weight("blocks." + std::to_string(h.layer) + ".mlp.W_out");
  const auto original = w.clone();
  EditRates rates;
  int64_t steps = 0;  // forward passes of the v* search, over all edits
  for (size_t i = 0; i < requests.size(); ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    steps += editors::apply_rome(*tm_, {requests[i]}, h, templates, c_inv).front().value.steps;
    rates.seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    scorer.score(*tm_, i, i + 1, rates);
    c10::NoGradGuard ng;
    w.copy_(original);  // each edit on a fresh copy
  }
  const double mean_steps = static_cast<double>(steps) / static_cast<double>(requests.size());
  std::cout << rates.summary("ROME layer " + std::to_string(h.layer) + ", " + std::to_string(requests.size()) + " single edits")
            << fmt::format(" ({:.2f} forward passes per edit)", mean_steps) << "\n";
  record_rates(rates);
  ::testing::Test::RecordProperty("mean_steps", std::to_string(mean_steps));
  // Issue 4's targets. The committed fixture meets them at layer 0 with clamp
  // 1.25 (100 edits: efficacy 0.99, paraphrase 0.975, neighbourhood 0.993,
  // unrelated preservation 0.9957); the first fixture (48 shared syllables)
  // reached 98.3 % efficacy at 99.56 % preservation and no better.
  EXPECT_GE(rates.efficacy(), 0.99);
  EXPECT_GE(rates.paraphrase(), 0.90);
  EXPECT_GE(rates.neighborhood(), 0.95);
  EXPECT_GE(rates.preservation(), 0.995);
}

// GRACE under ROME's protocol: each edit alone (a fresh codebook), scored at once.
TEST_F(FixtureEdits, GraceSingleEdits) {
  const auto h = editors::parse_grace_hparams(hparams("grace", dir_), "grace/fixture");
  const auto requests = single_edit_requests();
  const EditScorer scorer(*tm_, requests, preservation_facts(dir_, 1000));
  EditRates rates;
  for (size_t i = 0; i < requests.size(); ++i) {
    auto codebook = harness::Codebook::empty(tm_->model().config(), h.layer);
    rates.seconds.push_back(editors::apply_grace(*tm_, {requests[i]}, h, codebook)[0].seconds);
    scorer.score(*tm_, i, i + 1, rates);
  }
  tm_->install_codebook(harness::Codebook::empty(tm_->model().config(), h.layer));
  std::cout << rates.summary(fmt::format("GRACE layer {} eps {}, {} single edits", h.layer, h.eps, requests.size())) << "\n";
  record_rates(rates);
  EXPECT_GE(rates.efficacy(), 0.99);
  EXPECT_GE(rates.preservation(), 0.99);
}

// GRACE is a lifelong editor: every edit goes into one codebook (nothing is
// reset between edits) and all of them are scored at the end, with the same
// scorer as ROME's single edits (neighbourhood prompts that are themselves
// edited in the batch count as lost there). The codebook's growth (entries,
// splits, radius expansions) is printed beside the rates.
TEST_F(FixtureEdits, GraceCodebook) {
  const auto h = editors::parse_grace_hparams(hparams("grace", dir_), "grace/fixture");
  const auto requests = single_edit_requests();
  const EditScorer scorer(*tm_, requests, preservation_facts(dir_, 1000));
  auto codebook = harness::Codebook::empty(tm_->model().config(), h.layer);
  EditRates rates;
  std::map<std::string, int64_t> actions;
  double nll = 0;
  for (const auto& r : requests) {
    const auto res = editors::apply_grace(*tm_, {r}, h, codebook);
    rates.seconds.push_back(res[0].seconds);
    ++actions[res[0].action];
    nll += res[0].nll;
  }
  scorer.score(*tm_, 0, requests.size(), rates);
  // What eps has to cover: distances from paraphrase keys to their edit's key,
  // against the distances between different edits' keys.
  std::vector<double> para_d, other_d;
  {
    std::vector<std::vector<int64_t>> ids;
    std::vector<int64_t> last;
    std::vector<size_t> owner;
    for (size_t i = 0; i < std::min<size_t>(requests.size(), 30); ++i) {
      for (const auto& p : requests[i].paraphrase_prompts) {
        ids.push_back(tm_->encode_prompt(p));
        last.push_back(static_cast<int64_t>(ids.back().size()) - 1);
        owner.push_back(i);
      }
    }
    const auto keys = editors::collect_activations(tm_->model(), {h.layer, harness::HookSite::kMlpPost}, ids, last);
    for (size_t k = 0; k < owner.size(); ++k) {
      const auto d = (codebook.keys - keys[static_cast<int64_t>(k)].unsqueeze(0)).norm(2, {1});
      for (int64_t e = 0; e < codebook.size(); ++e) {
        const auto& cases = codebook.case_ids[static_cast<size_t>(e)];
        const bool own = std::find(cases.begin(), cases.end(), requests[owner[k]].case_id) != cases.end();
        (own ? para_d : other_d).push_back(d[e].item<double>());
      }
    }
    std::sort(para_d.begin(), para_d.end());
    std::sort(other_d.begin(), other_d.end());
  }
  if (!para_d.empty() && !other_d.empty()) {
    std::cout << fmt::format("  paraphrase key to its edit's key: median {:.3f}; to other edits' keys: 5th percentile "
                             "{:.3f}, median {:.3f}\n",
                             para_d[para_d.size() / 2], other_d[other_d.size() / 20], other_d[other_d.size() / 2]);
  }
  std::cout << rates.summary(fmt::format("GRACE layer {} eps {}, {} edits in one codebook", h.layer, h.eps, requests.size()))
            << "\n  codebook: " << codebook.size() << " entries, mean radius " << codebook.radii.mean().item<double>()
            << ", mean final target NLL " << nll / static_cast<double>(requests.size()) << ";";
  for (const auto& [a, n] : actions) std::cout << " " << a << " " << n;
  std::cout << "\n";
  record_rates(rates);
  ::testing::Test::RecordProperty("codebook_entries", std::to_string(codebook.size()));
  // No issue targets for GRACE: the expectation is the ROME gate's efficacy
  // and preservation (a codebook hit is exact); paraphrase is reported only.
  EXPECT_GE(rates.efficacy(), 0.99);
  EXPECT_GE(rates.preservation(), 0.99);
}

// The layer ROME edits on the fixture must be where tracing finds the fact:
// the largest mean MLP indirect effect at the subject's last token.
TEST_F(FixtureEdits, TracingAgreesWithRomeLayer) {
  const auto h = editors::parse_rome_hparams(hparams("rome", dir_), "rome/fixture");
  const auto requests = editors::load_counterfact_requests(dir_ / "requests" / "edits.counterfact.json");
  const int64_t n = std::min<int64_t>(static_cast<int64_t>(requests.size()), env_int("EDITGATE_TRACE_FACTS", 40));
  const int64_t n_layers = tm_->model().config().n_layers;
  auto mlp = at::zeros({n_layers}, at::kDouble), resid = at::zeros({n_layers}, at::kDouble);
  double clean = 0, corrupted = 0;
  int64_t window = 0;
  editors::TraceOptions options;
  // 0: the default, n_layers / 4 layers restored together (2 from 8 layers: set 1 to tell them apart).
  options.window = env_int("EDITGATE_TRACE_WINDOW", 0);
  for (int64_t i = 0; i < n; ++i) {
    const auto& r = requests[static_cast<size_t>(i)];
    const auto t = editors::causal_trace(*tm_, r.prompt, r.subject, r.target_true, options);
    mlp += t.mlp[t.subject_end - 1] - t.corrupted_prob;
    resid += t.resid[t.subject_end - 1] - t.corrupted_prob;
    clean += t.clean_prob;
    corrupted += t.corrupted_prob;
    window = t.window;
  }
  mlp /= static_cast<double>(n);
  resid /= static_cast<double>(n);
  std::cout << "causal tracing over " << n << " facts (MLP window " << window << "): clean P " << clean / n
            << ", corrupted P " << corrupted / n
            << "\n  mean MLP indirect effect at the subject's last token by layer:";
  for (int64_t l = 0; l < n_layers; ++l) std::cout << " " << mlp[l].item<double>();
  std::cout << "\n  mean resid indirect effect at the subject's last token by layer:";
  for (int64_t l = 0; l < n_layers; ++l) std::cout << " " << resid[l].item<double>();
  std::cout << "\n";
  ::testing::Test::RecordProperty("traced_mlp_layer", std::to_string(mlp.argmax().item<int64_t>()));
  EXPECT_EQ(mlp.argmax().item<int64_t>(), h.layer);
}

struct BatchTargets {
  double efficacy = 0, paraphrase = 0, neighborhood = 0, preservation = 0;
};

std::vector<editors::EditRequest> memit_requests(const fs::path& dir, int64_t n) {
  return editors::load_counterfact_requests(dir / "requests" / ("memit_" + std::to_string(n) + ".json"));
}

// `rounds` batches of requests.size() / rounds requests, applied one after another
// to the same weights (rounds 1: one batch), scored at the end on every request.
// AlphaEdit carries its preserved-key state across rounds.
EditRates batch_rounds(harness::TextModel& tm, const fs::path& dir, const std::string& method,
                       editors::MemitSolver solver, const std::vector<editors::EditRequest>& requests, int64_t rounds) {
  const auto h = editors::parse_memit_hparams(hparams(method, dir), method + "/fixture");
  const auto n = static_cast<int64_t>(requests.size());
  const EditScorer scorer(tm, requests, preservation_facts(dir, 1000));
  const auto mom2 = statistics(tm, dir, h.layers);
  const auto templates = editors::sample_context_templates(tm, h.context, 0);
  editors::AlphaEditState state;
  EditRates rates;
  rates.time_unit = "batch";
  double steps = 0;  // forward passes of each request's z search
  const auto per_round = static_cast<int64_t>(requests.size()) / rounds;
  for (int64_t r = 0; r < rounds; ++r) {
    const std::vector<editors::EditRequest> batch(requests.begin() + r * per_round, requests.begin() + (r + 1) * per_round);
    const auto t0 = std::chrono::steady_clock::now();
    const auto result = editors::apply_memit(tm, batch, h, templates, mom2, solver, &state);
    rates.seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    for (const auto& v : result.values) steps += static_cast<double>(v.steps);
  }
  scorer.score(tm, 0, static_cast<size_t>(rounds * per_round), rates);
  steps /= static_cast<double>(rounds * per_round);
  const std::string what = rounds == 1 ? fmt::format("{} {} edits in one batch", method, n)
                                       : fmt::format("{} {} rounds of {} edits", method, rounds, per_round);
  std::cout << rates.summary(what) << fmt::format(" ({:.2f} forward passes per request)\n", steps);
  record_rates(rates);
  ::testing::Test::RecordProperty("mean_steps", std::to_string(steps));
  return rates;
}

void expect_targets(const EditRates& r, const BatchTargets& t) {
  EXPECT_GE(r.efficacy(), t.efficacy);
  EXPECT_GE(r.paraphrase(), t.paraphrase);
  EXPECT_GE(r.neighborhood(), t.neighborhood);
  EXPECT_GE(r.preservation(), t.preservation);
}

// Issue 18's targets for batched editors on the v3 fixture.
TEST_F(FixtureEdits, MemitBatch) {
  const auto n = env_int("EDITGATE_MEMIT_EDITS", 100);
  const auto rates = batch_rounds(*tm_, dir_, "memit", editors::MemitSolver::kMemit, memit_requests(dir_, n), 1);
  expect_targets(rates, {0.95, 0.85, 0.95, 0.99});
}

TEST_F(FixtureEdits, MemitBatch1000) {
  const auto rates = batch_rounds(*tm_, dir_, "memit", editors::MemitSolver::kMemit, memit_requests(dir_, 1000), 1);
  expect_targets(rates, {0.90, 0, 0, 0.97});
}

// The 1,000-edit targets at the largest batch the world can hold without two
// edits on one subject: the first edit of each subject in memit_1000.json (every
// person once: 360 on the wide fixture). A subject-first rewrite prompt's key is
// the subject's alone, so two edits of one subject ask one key for two values,
// which no least-squares update gives: memit_1000.json's first 720 (two per
// person) edit 0.165 on the wide fixture, its first 360 0.93 (docs/fixture.md).
TEST_F(FixtureEdits, MemitOneEditPerSubject) {
  std::vector<editors::EditRequest> once;
  std::set<std::string> seen;
  for (auto& r : memit_requests(dir_, 1000)) {
    if (seen.insert(r.subject).second) once.push_back(std::move(r));
  }
  expect_targets(batch_rounds(*tm_, dir_, "memit", editors::MemitSolver::kMemit, once, 1), {0.90, 0, 0, 0.97});
}

TEST_F(FixtureEdits, AlphaEditBatch) {
  // Reported, with the MEMIT targets as the expectation.
  const auto rates =
      batch_rounds(*tm_, dir_, "alphaedit", editors::MemitSolver::kAlphaEdit, memit_requests(dir_, 100), 1);
  expect_targets(rates, {0.95, 0.85, 0, 0.99});
}

// AlphaEdit's claim is sequential editing: 10 rounds of 10 edits, each round
// projected away from the keys of the rounds before; it must edit and keep at
// least what MEMIT keeps over the same rounds.
TEST_F(FixtureEdits, AlphaEditSequentialRounds) {
  const auto requests = memit_requests(dir_, 100);
  const auto memit = batch_rounds(*tm_, dir_, "memit", editors::MemitSolver::kMemit, requests, 10);
  tm_ = std::make_unique<harness::TextModel>(harness::TextModel::load(dir_));  // fresh weights
  const auto alpha = batch_rounds(*tm_, dir_, "alphaedit", editors::MemitSolver::kAlphaEdit, requests, 10);
  EXPECT_GE(alpha.efficacy(), 0.90);
  EXPECT_GE(alpha.preservation(), memit.preservation());
}

}  // namespace
}  // namespace editgate::testing
