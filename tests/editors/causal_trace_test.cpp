// Causal tracing on a random-weight model: restoring the last token's final
// residual brings back the clean probability exactly, restoring a token before
// the subject changes nothing, and a seed fixes the numbers.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <memory>

#include "editors/locate/causal_trace.h"
#include "harness/input_error.h"
#include "tests/editors/edit_test_model.h"

namespace editgate::editors {
namespace {

using testing::EditTestModel;

class TraceArch : public ::testing::TestWithParam<std::string> {};

TEST_P(TraceArch, RestoringStatesBehavesAsCausalityRequires) {
  EditTestModel m(GetParam());
  TraceOptions o;
  o.samples = 4;
  o.window = 2;
  o.noise_scale = 10;
  const auto r = causal_trace(m.model(), "people say {} was born in the", "ka lo", std::string("north"), o);
  const int64_t n_tok = static_cast<int64_t>(r.tokens.size());
  const int64_t bos = m.model().adds_bos() ? 1 : 0;
  EXPECT_EQ(n_tok, 8 + bos);
  EXPECT_EQ(r.subject_begin, 2 + bos);
  EXPECT_EQ(r.subject_end, 4 + bos);
  EXPECT_EQ(r.answer, "north");
  EXPECT_NE(r.clean_prob, r.corrupted_prob);
  const int64_t n_layers = r.resid.size(1);
  EXPECT_NEAR(r.resid[n_tok - 1][n_layers - 1].item<double>(), r.clean_prob, 1e-6);
  for (int64_t t = 0; t < r.subject_begin; ++t) {
    for (int64_t l = 0; l < n_layers; ++l) {
      EXPECT_NEAR(r.resid[t][l].item<double>(), r.corrupted_prob, 1e-6) << t << " " << l;
      EXPECT_NEAR(r.mlp[t][l].item<double>(), r.corrupted_prob, 1e-6) << t << " " << l;
    }
  }
  const auto again = causal_trace(m.model(), "people say {} was born in the", "ka lo", std::string("north"), o);
  EXPECT_TRUE(at::equal(again.mlp, r.mlp));
  const auto j = to_json(r);
  EXPECT_EQ(j["mlp"].size(), static_cast<size_t>(n_tok));
}

// "gpt_neox" -> "GptNeox" (GoogleTest names have no underscores).
std::string arch_test_name(const ::testing::TestParamInfo<std::string>& info) {
  static const std::map<std::string, std::string> names = {
      {"gpt2", "Gpt2"}, {"llama", "Llama"}, {"gptj", "Gptj"}, {"gpt_neox", "GptNeox"}, {"gemma3_text", "Gemma3"}};
  return names.at(info.param);
}

INSTANTIATE_TEST_SUITE_P(Archs, TraceArch, ::testing::Values("gpt2", "llama", "gptj", "gpt_neox", "gemma3_text"),
                         arch_test_name);

// Gemma multiplies token embeddings by sqrt(d_model) before layer 0, where the
// noise goes: the default noise must be 3 × the std of what layer 0 sees there,
// not of the bare matrix (which on the 270M was 25 times too weak to corrupt).
TEST(CausalTrace, GemmaNoiseFollowsTheEmbeddingScale) {
  EditTestModel m("gemma3_text");
  auto& model = m.model().model();
  TraceOptions o;
  o.samples = 2;
  const auto r = causal_trace(m.model(), "people say {} was born in the", "ka lo", std::string("north"), o);
  const double matrix_std = model.token_embedding().std().item<double>();
  const double d_model = static_cast<double>(model.config().d_model);
  EXPECT_NEAR(r.noise_std, 3.0 * matrix_std * std::sqrt(d_model), 1e-6 * r.noise_std);
  // Against what layer 0 sees at the subject's tokens.
  auto x = std::make_shared<at::Tensor>();
  {
    auto h = model.hooks().add({0, harness::HookSite::kResidPre}, harness::cache_into(x));
    (void)model.forward(at::tensor(m.model().encode_prompt("people say ka lo was born in the"), at::kLong).unsqueeze(0));
  }
  const double seen_std = x->select(0, 0).narrow(0, r.subject_begin, r.subject_end - r.subject_begin).std().item<double>();
  EXPECT_GT(r.noise_std / seen_std, 2.0);
  EXPECT_LT(r.noise_std / seen_std, 4.5);
}

TEST(CausalTrace, DefaultsToTheCleanTopAnswer) {
  EditTestModel m;
  TraceOptions o;
  o.samples = 2;
  const auto r = causal_trace(m.model(), "{} lives in the", "mi ra", std::nullopt, o);
  EXPECT_FALSE(r.answer.empty());
  EXPECT_GT(r.clean_prob, 0);
  EXPECT_THROW(causal_trace(m.model(), "{} lives in the", "mi ra", std::string(" "), o), InputError);
}

}  // namespace
}  // namespace editgate::editors
