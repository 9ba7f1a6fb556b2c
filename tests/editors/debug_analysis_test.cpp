// `editgate debug`'s analyses. On a random-weight model: Integrated Gradients
// is complete (the attributions sum to F(input) - F(zeros)) and the logit
// lens's last row is the model's own output. On the trained fixture: a fact
// broken by a ROME edit at a known layer is traced to the MLP of that layer,
// and the suggestion names it.

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <gtest/gtest.h>

#include "editors/context_templates.h"
#include "editors/edit_hparams.h"
#include "editors/embedded_hparams.h"
#include "editors/locate/debug_analysis.h"
#include "editors/rome.h"
#include "harness/input_error.h"
#include "tests/editors/edit_test_model.h"
#include "tests/editors/fixture_eval.h"

namespace editgate::editors {
namespace {

TEST(DebugAnalysis, IntegratedGradientsAreCompleteAndLensEndsAtTheOutput) {
  testing::EditTestModel m;
  const auto req = testing::test_requests(1)[0];
  DebugOptions o;
  o.ig_steps = 128;
  o.completeness_tolerance = 0.02;
  o.trace.samples = 3;
  const auto r = debug_prediction(m.model(), req.prompt, req.target_new, req.subject, o);
  ASSERT_EQ(r.ig.attributions.size(), r.tokens.size());
  EXPECT_TRUE(r.ig.complete) << "sum " << r.ig.sum << " vs dF " << r.ig.f_input - r.ig.f_baseline;
  EXPECT_NEAR(r.ig.sum, r.ig.f_input - r.ig.f_baseline, 0.02 * std::max(1.0, std::abs(r.ig.f_input - r.ig.f_baseline)));
  ASSERT_EQ(static_cast<int64_t>(r.lens.size()), m.model().model().config().n_layers);
  EXPECT_NEAR(r.lens.back().actual_prob, r.actual_prob, 1e-5);
  EXPECT_EQ(r.lens.back().actual_rank, 1);
  ASSERT_TRUE(r.trace.has_value());
  EXPECT_TRUE(r.component == "mlp" || r.component == "attn");
  EXPECT_FALSE(r.summary.empty());
  EXPECT_EQ(to_json(r)["logit_lens"].size(), r.lens.size());
}

TEST(DebugAnalysis, RejectsASubjectNotInThePrompt) {
  testing::EditTestModel m;
  EXPECT_THROW(debug_prediction(m.model(), "ka lo was born in the", "north", std::string("zz"), {}), InputError);
}

// The fixture stores facts at layer 0 (tracing says so); a ROME edit at layer
// 1 or 2 puts the new answer there, and debug must find it there: the MLP
// knockout at the subject's last token (causal tracing on this 4-layer model
// restores the new answer mostly from the last layer at the last token, so it
// is printed, not asserted). On the unedited model it points at layer 0.
TEST(FixtureDebug, PointsAtTheLayerABrokenFactWasEditedAt) {
  const auto dir = testing::fixture_dir();
  if (!dir) GTEST_SKIP() << "no fixture model";
  const auto req = load_counterfact_requests(*dir / "requests" / "edits.counterfact.json")[0];
  DebugOptions o;
  o.trace.samples = 4;
  {
    auto tm = harness::TextModel::load(*dir);
    const auto r = debug_prediction(tm, req.prompt, req.target_new, req.subject, o);
    EXPECT_EQ(r.knockout_layer, 0);  // the base's own fact
  }
  // Not every fact can be moved from layer 1 or 2 (the subject site is layer
  // 0); the first of the first ten cases whose edit breaks the fact is debugged.
  const auto requests = load_counterfact_requests(*dir / "requests" / "edits.counterfact.json");
  for (const int64_t layer : {1, 2}) {
    bool broken = false;
    for (size_t i = 0; i < 10 && !broken; ++i) {
      const auto& q = requests[i];
      auto tm = harness::TextModel::load(*dir);
      auto h = parse_rome_hparams(nlohmann::json::parse(*embedded_hparams("rome/fixture")), "rome/fixture");
      h.layer = layer;
      h.mom2.adjustment = false;
      h.value.clamp_norm_factor = 4;  // the fixture's 1.25 is tuned for layer 0; deeper edits need room
      h.value.num_steps = 60;
      apply_rome(tm, {q}, h, sample_context_templates(tm, h.context, 0), {});
      const auto r = debug_prediction(tm, q.prompt, q.target_true, q.subject, o);
      if (r.actual_id == r.expected_id) continue;
      broken = true;
      for (const auto& line : r.summary) std::cout << line << "\n";
      EXPECT_TRUE(r.ig.complete);
      EXPECT_EQ(r.knockout_layer, layer) << "case " << i;
      EXPECT_EQ(r.knockout_position, r.trace->subject_end - 1);
      EXPECT_NE(r.suggestion.find("--layers " + std::to_string(layer)), std::string::npos) << r.suggestion;
    }
    EXPECT_TRUE(broken) << "no ROME edit at layer " << layer << " broke one of the first ten facts";
  }
}

}  // namespace
}  // namespace editgate::editors
