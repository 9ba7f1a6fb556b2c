// The editors on the trained fixture model (skipped when it is absent; point
// EDITGATE_FIXTURE_DIR at a fixture checkpoint to run elsewhere): 100+ single
// ROME edits each on a fresh copy of the weights, MEMIT and AlphaEdit with 100
// edits in one batch, against the behaviour targets. The numbers are
// printed and recorded as test properties. EDITGATE_FIXTURE_EDITS sets the
// number of ROME edits; EDITGATE_ROME_HPARAMS / EDITGATE_MEMIT_HPARAMS /
// EDITGATE_ALPHAEDIT_HPARAMS replace the embedded fixture hyperparameters.

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "editors/context_templates.h"
#include "editors/edit_hparams.h"
#include "editors/embedded_hparams.h"
#include "editors/memit.h"
#include "editors/rome.h"
#include "editors/locate/causal_trace.h"
#include "editors/second_moment.h"
#include "fixtures/training_text.h"
#include "fixtures/world.h"
#include "fixtures/world_config.h"
#include "tests/editors/fixture_eval.h"

namespace editgate::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json hparams(const std::string& method) {
  std::string env = "EDITGATE_" + method + "_HPARAMS";
  for (auto& c : env) c = static_cast<char>(std::toupper(c));
  if (const char* f = std::getenv(env.c_str()); f != nullptr && *f != '\0') return editors::read_hparams_file(f);
  return json::parse(*editors::embedded_hparams(method + "/fixture"));
}

int64_t env_int(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::stoll(v) : fallback;
}

// The fixture's training text, packed as the trainer saw it (the CLI's default corpus).
editors::TextCorpus fixture_corpus(const fs::path& dir, int64_t max_words) {
  std::ifstream in(dir / "requests" / "world.json");
  const auto w = json::parse(in);
  const auto config = fixtures::parse_world_config(w["config"].dump(), "world.json");
  const auto world = fixtures::generate_world(config, w["seed"].get<uint64_t>());
  std::vector<std::string> examples;
  for (auto& ex : fixtures::build_training_examples(world)) examples.push_back(std::move(ex.text_));
  return editors::TextCorpus::from_documents("fixture", editors::pack_documents(examples, fixtures::kExampleSeparator, max_words));
}

std::map<int64_t, at::Tensor> statistics(harness::TextModel& tm, const fs::path& dir, const std::vector<int64_t>& layers) {
  editors::SecondMomentOptions o;
  o.layers = layers;
  o.show_progress = false;
  std::map<int64_t, at::Tensor> out;
  for (auto& s : editors::compute_second_moments(tm, fixture_corpus(dir, tm.model().config().max_positions - 1), o)) {
    std::cerr << "mom2 layer " << s.layer << ": " << s.n_tokens << " tokens in " << s.seconds << " s\n";
    out[s.layer] = s.mom2;
  }
  return out;
}

void record(const EditRates& r) {
  ::testing::Test::RecordProperty("efficacy", std::to_string(r.efficacy()));
  ::testing::Test::RecordProperty("paraphrase", std::to_string(r.paraphrase()));
  ::testing::Test::RecordProperty("neighborhood", std::to_string(r.neighborhood()));
  ::testing::Test::RecordProperty("preservation", std::to_string(r.preservation()));
  ::testing::Test::RecordProperty("median_seconds", std::to_string(r.median_seconds()));
}

class FixtureEdits : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto dir = fixture_dir();
    if (!dir) GTEST_SKIP() << "no fixture model (build it or set EDITGATE_FIXTURE_DIR)";
    dir_ = *dir;
    tm_ = std::make_unique<harness::TextModel>(harness::TextModel::load(dir_));
  }
  fs::path dir_;
  std::unique_ptr<harness::TextModel> tm_;
};

TEST_F(FixtureEdits, RomeSingleEdits) {
  const auto h = editors::parse_rome_hparams(hparams("rome"), "rome/fixture");
  auto requests = editors::load_counterfact_requests(dir_ / "requests" / "edits.counterfact.json");
  requests.resize(std::min<size_t>(requests.size(), static_cast<size_t>(env_int("EDITGATE_FIXTURE_EDITS", 100))));
  const EditScorer scorer(*tm_, requests, preservation_facts(dir_, 1000));
  const auto mom2 = h.mom2.adjustment ? statistics(*tm_, dir_, {h.layer}) : std::map<int64_t, at::Tensor>{};
  const auto c_inv = mom2.empty() ? at::Tensor() : editors::rome_inverse_mom2(mom2.at(h.layer), h.mom2.ridge);
  const auto templates = editors::sample_context_templates(*tm_, h.context, 0);
  auto w = tm_->model().weight("blocks." + std::to_string(h.layer) + ".mlp.W_out");
  const auto original = w.clone();
  EditRates rates;
  for (size_t i = 0; i < requests.size(); ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    editors::apply_rome(*tm_, {requests[i]}, h, templates, c_inv);
    rates.seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    scorer.score(*tm_, i, i + 1, rates);
    c10::NoGradGuard ng;
    w.copy_(original);  // each edit on a fresh copy
  }
  std::cout << rates.summary("ROME layer " + std::to_string(h.layer) + ", " + std::to_string(requests.size()) + " single edits") << "\n";
  record(rates);
  // Issue 4's targets. The committed fixture meets them at layer 0 with clamp
  // 1.25 (100 edits: efficacy 0.99, paraphrase 0.975, neighbourhood 0.991,
  // unrelated preservation 0.9956); the first fixture (48 shared syllables)
  // reached 98.3 % efficacy at 99.56 % preservation and no better.
  EXPECT_GE(rates.efficacy(), 0.99);
  EXPECT_GE(rates.paraphrase(), 0.90);
  EXPECT_GE(rates.neighborhood(), 0.95);
  EXPECT_GE(rates.preservation(), 0.995);
}

// The layer ROME edits on the fixture must be where tracing finds the fact:
// the largest mean MLP indirect effect at the subject's last token.
TEST_F(FixtureEdits, TracingAgreesWithRomeLayer) {
  const auto h = editors::parse_rome_hparams(hparams("rome"), "rome/fixture");
  const auto requests = editors::load_counterfact_requests(dir_ / "requests" / "edits.counterfact.json");
  const int64_t n = std::min<int64_t>(static_cast<int64_t>(requests.size()), env_int("EDITGATE_TRACE_FACTS", 40));
  const int64_t n_layers = tm_->model().config().n_layers;
  auto mlp = at::zeros({n_layers}, at::kDouble), resid = at::zeros({n_layers}, at::kDouble);
  double clean = 0, corrupted = 0;
  for (int64_t i = 0; i < n; ++i) {
    const auto& r = requests[static_cast<size_t>(i)];
    const auto t = editors::causal_trace(*tm_, r.prompt, r.subject, r.target_true);
    mlp += t.mlp[t.subject_end - 1] - t.corrupted_prob;
    resid += t.resid[t.subject_end - 1] - t.corrupted_prob;
    clean += t.clean_prob;
    corrupted += t.corrupted_prob;
  }
  mlp /= static_cast<double>(n);
  resid /= static_cast<double>(n);
  std::cout << "causal tracing over " << n << " facts: clean P " << clean / n << ", corrupted P " << corrupted / n
            << "\n  mean MLP indirect effect at the subject's last token by layer:";
  for (int64_t l = 0; l < n_layers; ++l) std::cout << " " << mlp[l].item<double>();
  std::cout << "\n  mean resid indirect effect at the subject's last token by layer:";
  for (int64_t l = 0; l < n_layers; ++l) std::cout << " " << resid[l].item<double>();
  std::cout << "\n";
  ::testing::Test::RecordProperty("traced_mlp_layer", std::to_string(mlp.argmax().item<int64_t>()));
  EXPECT_EQ(mlp.argmax().item<int64_t>(), h.layer);
}

void batch_edit(harness::TextModel& tm, const fs::path& dir, const std::string& method, editors::MemitSolver solver,
                double min_efficacy, double min_paraphrase, double min_preservation) {
  const auto h = editors::parse_memit_hparams(hparams(method), method + "/fixture");
  const auto n = env_int("EDITGATE_MEMIT_EDITS", 100);
  const auto requests = editors::load_counterfact_requests(dir / "requests" / ("memit_" + std::to_string(n) + ".json"));
  const EditScorer scorer(tm, requests, preservation_facts(dir, 1000));
  const auto mom2 = statistics(tm, dir, h.layers);
  const auto templates = editors::sample_context_templates(tm, h.context, 0);
  editors::AlphaEditState state;
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = editors::apply_memit(tm, requests, h, templates, mom2, solver, &state);
  EditRates rates;
  rates.time_unit = "batch";
  rates.seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  scorer.score(tm, 0, requests.size(), rates);
  std::cout << rates.summary(method + " " + std::to_string(requests.size()) + " edits in one batch") << " (z "
            << r.value_seconds << " s, keys " << r.key_seconds << " s, solves " << r.solve_seconds << " s)\n";
  record(rates);
  EXPECT_GE(rates.efficacy(), min_efficacy);
  EXPECT_GE(rates.paraphrase(), min_paraphrase);
  EXPECT_GE(rates.preservation(), min_preservation);
}

TEST_F(FixtureEdits, MemitBatch) { batch_edit(*tm_, dir_, "memit", editors::MemitSolver::kMemit, 0.95, 0.85, 0.99); }

TEST_F(FixtureEdits, AlphaEditBatch) {
  // No gate in the issue: reported, with the MEMIT targets as the expectation.
  batch_edit(*tm_, dir_, "alphaedit", editors::MemitSolver::kAlphaEdit, 0.95, 0.85, 0.99);
}

}  // namespace
}  // namespace editgate::testing
