// Causal tracing on a random-weight model: restoring the last token's final
// residual brings back the clean probability exactly, restoring a token before
// the subject changes nothing, and a seed fixes the numbers.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <map>

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
      {"gpt2", "Gpt2"}, {"llama", "Llama"}, {"gptj", "Gptj"}, {"gpt_neox", "GptNeox"}};
  return names.at(info.param);
}

INSTANTIATE_TEST_SUITE_P(Archs, TraceArch, ::testing::Values("gpt2", "llama", "gptj", "gpt_neox"), arch_test_name);

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
