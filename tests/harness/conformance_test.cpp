// Conformance with the reference implementation: transformers builds random
// GPT-2, Llama, GPT-J, GPT-NeoX and Gemma 3 models, saves them with save_pretrained and
// records its own logits, greedy generations and the activations at every hook
// point (tests/conformance/make_reference_models.py); editgate loads the same
// directories and must agree within 1e-4 (f32) and produce identical tokens. Prints the max difference per model and case, as
// llm.c's test_gpt2.c does.
//
// The references come from $EDITGATE_CONFORMANCE_DIR (ctest's fixture test
// ConformanceReferences writes it once for all processes) or, when the binary
// is run by hand, from running the script once per process into a temp dir.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "harness/checkpoint.h"
#include "harness/generation.h"
#include "harness/hooks.h"
#include "harness/safetensors_reader.h"
#include "harness/scoring.h"
#include "harness/tokenizer.h"
#include "harness/weight_store.h"
#include "tests/harness/reference_dir.h"
#include "tests/harness/tiny_checkpoint.h"

namespace editgate::testing {
namespace {

namespace fs = std::filesystem;
using harness::Padding;

constexpr double kTol = 1e-4;

const ReferenceDir& references() {
  static const ReferenceDir refs = make_reference_dir("EDITGATE_CONFORMANCE_DIR", "make_reference_models.py");
  return refs;
}

std::string read_file(const fs::path& p) { return read_text_file(p); }

// "gpt2_legacy_names" -> "Gpt2LegacyNames" (GoogleTest names have no underscores).
std::string camel(const std::string& s) {
  std::string out;
  bool up = true;
  for (char ch : s) {
    if (ch == '_') {
      up = true;
    } else {
      out += up ? static_cast<char>(std::toupper(static_cast<unsigned char>(ch))) : ch;
      up = false;
    }
  }
  return out;
}

class ConformanceModel : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const ReferenceDir& refs = references();
    if (!refs.error.empty()) GTEST_FAIL() << refs.error;
    if (!refs.skip.empty()) GTEST_SKIP() << refs.skip;
    const fs::path dir = refs.dir / GetParam();
    loaded_ = harness::load_model(dir / "ckpt");
    logits_ = harness::SafetensorsFile::open(dir / "reference.safetensors");
    info_ = nlohmann::json::parse(read_file(dir / "reference.json"));
    prompts_ = info_["prompts"].get<std::vector<std::vector<int64_t>>>();
  }
  harness::Transformer& model() { return *loaded_.model; }
  at::Tensor ref(const std::string& name) const { return logits_->tensor(name); }
  // One line per model and case, and a JUnit property.
  void report(const std::string& name, double diff) {
    std::printf("[conformance] %-22s %-24s max|diff| %.3g\n", GetParam().c_str(), name.c_str(), diff);
    RecordProperty("max_abs_diff_" + name, ::testing::PrintToString(diff));
  }

  c10::NoGradGuard no_grad_;
  harness::LoadedModel loaded_;
  std::shared_ptr<const harness::SafetensorsFile> logits_;
  nlohmann::json info_;
  std::vector<std::vector<int64_t>> prompts_;
};

TEST_P(ConformanceModel, Logits) {
  // The checkpoint is in the layout the model's name promises.
  const auto store = harness::WeightStore::open_dir(loaded_.dir);
  EXPECT_EQ(store.contains("h.0.mlp.c_proj.weight"), GetParam() == "gpt2_legacy_names");
  EXPECT_EQ(store.files().size() > 1, GetParam() == "gpt2_sharded");

  double worst = 0;
  for (size_t i = 0; i < prompts_.size(); ++i) {
    const auto ids = at::tensor(prompts_[i], at::kLong).unsqueeze(0);
    worst = std::max(worst, max_abs_diff(model().forward(ids)[0], ref("unbatched." + std::to_string(i))));
  }
  report("unbatched", worst);
  EXPECT_LT(worst, kTol) << "unbatched";

  for (Padding padding : {Padding::kRight, Padding::kLeft}) {
    const std::string name = padding == Padding::kRight ? "right_padded" : "left_padded";
    const auto batch = harness::pad_batch(prompts_, padding);
    harness::ForwardOptions opts;
    opts.attention_mask = batch.mask;  // editgate derives the position ids from the mask
    const auto got = model().forward(batch.ids, opts);
    const auto want = ref(name);
    ASSERT_EQ(got.sizes(), want.sizes()) << name;
    double diff = 0;
    for (size_t b = 0; b < prompts_.size(); ++b) {  // padding columns are nobody's output
      const int64_t len = static_cast<int64_t>(prompts_[b].size());
      diff = std::max(diff, max_abs_diff(got[b].narrow(0, batch.offsets[b], len), want[b].narrow(0, batch.offsets[b], len)));
    }
    report(name, diff);
    EXPECT_LT(diff, kTol) << name;
  }
}

TEST_P(ConformanceModel, ScoringMatchesReferenceLogSoftmax) {
  std::vector<harness::ScoreItem> items;
  std::vector<at::Tensor> want;  // log-softmax of transformers' logits, [len, vocab]
  for (size_t i = 0; i < prompts_.size(); ++i) {
    if (prompts_[i].size() < 2) continue;
    const auto split = prompts_[i].begin() + static_cast<int64_t>(prompts_[i].size() / 2);
    items.push_back({{prompts_[i].begin(), split}, {split, prompts_[i].end()}});
    want.push_back(at::log_softmax(ref("unbatched." + std::to_string(i)).to(at::kDouble), -1));
  }
  for (Padding padding : {Padding::kRight, Padding::kLeft}) {
    const auto got = harness::score(model(), items, 64, padding);
    double diff = 0;
    for (size_t i = 0; i < items.size(); ++i) {
      for (size_t t = 0; t < items[i].continuation.size(); ++t) {
        const int64_t row = static_cast<int64_t>(items[i].prompt.size() + t) - 1;
        diff = std::max(diff, std::abs(got[i].token_logprobs[t] - want[i][row][items[i].continuation[t]].item<double>()));
      }
    }
    const std::string name = padding == Padding::kRight ? "score_right" : "score_left";
    report(name, diff);
    EXPECT_LT(diff, kTol) << name;
  }
  const auto next = harness::next_token_logprobs(model(), prompts_);
  double diff = 0;
  for (size_t i = 0; i < prompts_.size(); ++i) {
    diff = std::max(diff, max_abs_diff(next[i], at::log_softmax(ref("unbatched." + std::to_string(i))[-1], -1)));
  }
  report("next_token_logprobs", diff);
  EXPECT_LT(diff, kTol);
}

TEST_P(ConformanceModel, GreedyGenerationIsIdentical) {
  harness::GenerateOptions opts;
  opts.max_new_tokens = info_["new_tokens"].get<int64_t>();
  const auto want_single = info_["generate_single"].get<std::vector<int64_t>>();
  const auto want_batch = info_["generate_batch"].get<std::vector<std::vector<int64_t>>>();
  for (bool use_cache : {true, false}) {
    opts.use_cache = use_cache;
    const char* how = use_cache ? "cached" : "uncached";
    EXPECT_EQ(harness::generate_greedy(model(), {prompts_[0]}, opts)[0], want_single) << how << " single";
    EXPECT_EQ(harness::generate_greedy(model(), prompts_, opts), want_batch) << how << " batch";
  }
  std::printf("[conformance] %-22s greedy: %zu prompts x %lld tokens compared (reference min top-2 margin %.3g)\n",
              GetParam().c_str(), prompts_.size() + 1, static_cast<long long>(opts.max_new_tokens),
              info_["greedy_min_top2_margin"].get<double>());
}

TEST_P(ConformanceModel, HookActivationsMatchReference) {
  // Every hook of every layer on one prompt, against what transformers' modules
  // compute at the same place (forward hooks there), and resid_pre against
  // transformers' own output_hidden_states.
  const auto& prompt = prompts_[info_["hook_prompt"].get<size_t>()];
  const int64_t n_layers = model().config().n_layers;
  std::vector<std::pair<harness::HookPoint, std::shared_ptr<at::Tensor>>> seen;
  std::vector<harness::HookHandle> handles;
  for (int64_t l = 0; l < n_layers; ++l) {
    for (int site = 0; site < harness::kNumHookSites; ++site) {
      const harness::HookPoint point{l, static_cast<harness::HookSite>(site)};
      seen.emplace_back(point, std::make_shared<at::Tensor>());
      handles.push_back(model().hooks().add(point, harness::cache_into(seen.back().second)));
    }
  }
  model().forward(at::tensor(prompt, at::kLong).unsqueeze(0));
  double worst = 0;
  for (const auto& [point, got] : seen) {
    const auto want = ref("hook." + point.to_string());
    ASSERT_EQ((*got)[0].sizes(), want.sizes()) << point.to_string();
    const double diff = max_abs_diff((*got)[0], want);
    EXPECT_LT(diff, kTol) << point.to_string();
    worst = std::max(worst, diff);
  }
  report("hooks (" + std::to_string(seen.size()) + ")", worst);
  double hidden = 0;
  for (const auto& [point, got] : seen) {
    if (point.site != harness::HookSite::kResidPre) continue;
    hidden = std::max(hidden, max_abs_diff((*got)[0], ref("hidden_states." + std::to_string(point.layer))));
  }
  report("hidden_states", hidden);
  EXPECT_LT(hidden, kTol);
}

// Prompt ids as transformers' AutoTokenizer gives them (tokenizer(text), special
// tokens included), for the checkpoint and for its tokenizer after a
// save_pretrained round trip: one id sequence per text in each, no tolerance.
void expect_prompt_ids_match(const fs::path& dir, const fs::path& ckpt, const nlohmann::json& info,
                             const std::string& name) {
  const auto texts = info["prompt_texts"].get<std::vector<std::string>>();
  const auto before = info["prompt_ids"].get<std::vector<std::vector<int64_t>>>();
  const auto after = info["prompt_ids_roundtrip"].get<std::vector<std::vector<int64_t>>>();
  const auto tok = harness::load_tokenizer(ckpt);
  const auto roundtrip = harness::load_tokenizer(dir / "tokenizer_roundtrip");
  int mismatches = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    EXPECT_EQ(tok->encode_prompt(texts[i]), before[i]) << name << " (" << tok->prompt_specials().rule << "): '"
                                                        << texts[i] << "'";
    EXPECT_EQ(roundtrip->encode_prompt(texts[i]), after[i])
        << name << " after save_pretrained (" << roundtrip->prompt_specials().rule << "): '" << texts[i] << "'";
    mismatches += (tok->encode_prompt(texts[i]) != before[i]) + (roundtrip->encode_prompt(texts[i]) != after[i]);
  }
  std::printf("[conformance] %-22s prompt ids vs AutoTokenizer (%s): %zu texts x 2, %d differ\n", name.c_str(),
              info["tokenizer_class"].get<std::string>().c_str(), texts.size(), mismatches);
}

TEST_P(ConformanceModel, PromptIdsMatchAutoTokenizer) {
  const fs::path dir = references().dir / GetParam();
  expect_prompt_ids_match(dir, dir / "ckpt", info_, GetParam());
}

// The committed fixtures, read from the source tree (the script records them): both
// must put <bos> first through tokenizer.json's post_processor, as they were trained.
class ConformanceFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(ConformanceFixture, PromptIdsMatchAutoTokenizer) {
  const ReferenceDir& refs = references();
  if (!refs.error.empty()) GTEST_FAIL() << refs.error;
  if (!refs.skip.empty()) GTEST_SKIP() << refs.skip;
  const fs::path dir = refs.dir / ("fixture_" + GetParam());
  const auto info = nlohmann::json::parse(read_file(dir / "reference.json"));
  expect_prompt_ids_match(dir, fs::path(EDITGATE_SOURCE_DIR) / "fixtures" / GetParam(), info, "fixture " + GetParam());
}

INSTANTIATE_TEST_SUITE_P(Conformance, ConformanceFixture, ::testing::Values("default", "concepts", "wide"));

INSTANTIATE_TEST_SUITE_P(Conformance, ConformanceModel,
                         ::testing::Values("gpt2", "gpt2_legacy_names", "gpt2_sharded", "llama_gqa_tied_llama3",
                                           "llama_untied", "gptj_partial_rotary", "gptj_full_rotary",
                                           "gpt_neox_parallel", "gpt_neox_sequential", "gemma3_sliding",
                                           "gemma3_softcap"),
                         [](const auto& info) { return camel(info.param); });

}  // namespace
}  // namespace editgate::testing
