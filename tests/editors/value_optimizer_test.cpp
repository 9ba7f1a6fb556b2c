// The v*/z search (editors/value_optimizer) on random-weight models: it hands the
// process-wide TF32 switch back as it found it; the prefix KV cache, the
// early-stop check interval and batching change nothing; its KL term runs from
// the edited to the base distribution (the ROME paper's eq. 4).

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <c10/core/GradMode.h>
#include <gtest/gtest.h>

#include "editors/context_templates.h"
#include "editors/subject_activations.h"
#include "editors/value_optimizer.h"
#include "tests/editors/edit_test_model.h"

namespace editgate::editors {
namespace {

using testing::EditTestModel;

// The TF32 switch is process-wide; the optimisation must hand it back as it found it.
TEST(ValueOptimizer, LeavesTf32SettingAsFound) {
  EditTestModel m;
  ValueParams p;
  p.num_steps = 2;
  const harness::HookPoint point{0, harness::HookSite::kMlpOut};
  for (bool before : {true, false}) {
    at::globalContext().setAllowTF32CuBLAS(before);
    optimize_values(m.model(), testing::test_requests(1), {"{}"}, point, p);
    EXPECT_EQ(at::globalContext().allowTF32CuBLAS(), before);
  }
  at::globalContext().setAllowTF32CuBLAS(false);
}

// The tokens before each subject's last token run once into a KV cache; the
// optimisation must land where running whole rows at every step lands.
TEST(ValueOptimizer, PrefixCacheChangesNothing) {
  EditTestModel m;
  const auto reqs = testing::test_requests(3);
  ValueParams p;
  p.num_steps = 6;
  p.early_stop_loss = 0;
  p.allow_tf32 = false;
  ContextTemplateParams tp;
  tp.length_count = {{4, 2}};
  const auto templates = sample_context_templates(m.model(), tp, 0);
  const harness::HookPoint point{0, harness::HookSite::kMlpOut};
  ValueOptions whole;
  whole.cache_prefix = false;
  const auto cached = optimize_values(m.model(), reqs, templates, point, p);
  const auto uncached = optimize_values(m.model(), reqs, templates, point, p, whole);
  ASSERT_EQ(cached.size(), uncached.size());
  for (size_t i = 0; i < cached.size(); ++i) {
    EXPECT_LT((cached[i].v0 - uncached[i].v0).abs().max().item<double>(), 1e-5) << i;
    EXPECT_LT((cached[i].delta - uncached[i].delta).abs().max().item<double>(), 1e-4) << i;
    EXPECT_GT(cached[i].delta.norm().item<double>(), 0.0) << i;
    EXPECT_NEAR(cached[i].nll, uncached[i].nll, 1e-4) << i;
    EXPECT_NEAR(cached[i].kl, uncached[i].kl, 1e-5) << i;
  }
}

// The host looks at the early stop every k-th step only; a request that stops
// is frozen where it stopped, so the results are those of looking every step.
TEST(ValueOptimizer, StopCheckIntervalChangesNothing) {
  EditTestModel m;
  const auto reqs = testing::test_requests(3);
  ContextTemplateParams tp;
  tp.length_count = {{4, 2}};
  const auto templates = sample_context_templates(m.model(), tp, 0);
  const harness::HookPoint point{0, harness::HookSite::kMlpOut};
  for (const double stop : {6.0, 50.0}) {  // some requests stop early; every request stops at once
    ValueParams p;
    p.num_steps = 8;
    p.early_stop_loss = stop;
    p.allow_tf32 = false;
    ValueOptions every;
    every.stop_check_every = 1;
    const auto reference = optimize_values(m.model(), reqs, templates, point, p, every);
    for (const int64_t k : {3, 100}) {
      ValueOptions sparse;
      sparse.stop_check_every = k;
      const auto got = optimize_values(m.model(), reqs, templates, point, p, sparse);
      ASSERT_EQ(got.size(), reference.size());
      for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_TRUE(at::equal(got[i].delta, reference[i].delta)) << "stop " << stop << " k " << k << " request " << i;
        EXPECT_EQ(got[i].steps, reference[i].steps) << i;
        EXPECT_EQ(got[i].loss, reference[i].loss) << i;
        EXPECT_EQ(got[i].early_stopped, reference[i].early_stopped) << i;
      }
    }
    if (stop == 6.0) {
      // The case is only a test if the requests stop at different steps.
      EXPECT_NE(reference.front().steps, reference.back().steps);
    } else {
      EXPECT_EQ(reference.front().steps, 1);
    }
  }
}

TEST(ValueOptimizer, BatchedEqualsSerial) {
  EditTestModel m;
  const auto reqs = testing::test_requests(3);
  ValueParams p;
  p.num_steps = 8;
  p.early_stop_loss = 6.0;  // two requests stop early (after 1 and 5 steps), one runs all 8
  p.allow_tf32 = false;     // compared to 1e-4 below: full fp32 on CUDA too
  ContextTemplateParams tp;
  tp.length_count = {{4, 2}};
  const auto templates = sample_context_templates(m.model(), tp, 0);
  const harness::HookPoint point{0, harness::HookSite::kMlpOut};
  const auto batched = optimize_values(m.model(), reqs, templates, point, p);
  ASSERT_EQ(batched.size(), 3u);
  for (size_t i = 0; i < reqs.size(); ++i) {
    const auto alone = optimize_values(m.model(), {reqs[i]}, templates, point, p)[0];
    EXPECT_EQ(alone.steps, batched[i].steps) << i;
    EXPECT_LT((alone.delta - batched[i].delta).abs().max().item<double>(), 1e-4) << i;
    EXPECT_LT((alone.v0 - batched[i].v0).abs().max().item<double>(), 1e-5) << i;
  }
  // Chunked (one request per forward pass) gives the same as one chunk.
  ValueOptions tiny;
  tiny.max_batch_elements = 1;
  const auto chunked = optimize_values(m.model(), reqs, templates, point, p, tiny);
  for (size_t i = 0; i < reqs.size(); ++i) {
    EXPECT_LT((chunked[i].delta - batched[i].delta).abs().max().item<double>(), 1e-4) << i;
  }
}

// The essence term is KL(P_δ ‖ P₀), the ROME paper's eq. 4 and the reference's
// direction: recomputed here from the returned δ (the one of the last forward pass).
TEST(ValueOptimizer, KlIsFromTheEditedToTheBaseDistribution) {
  EditTestModel m;
  const auto req = testing::test_requests(1).front();
  ValueParams p;
  p.num_steps = 3;
  p.lr = 2.0;  // far enough from δ = 0 for the two directions to differ clearly
  p.early_stop_loss = 0;
  p.allow_tf32 = false;
  const harness::HookPoint point{0, harness::HookSite::kMlpOut};
  const auto v = optimize_values(m.model(), {req}, {"{}"}, point, p).front();
  const auto sp = encode_subject_prompt(m.model(), p.kl_prompts.front(), req.subject, req.case_id);
  const auto log_p = [&](const at::Tensor& delta) {
    c10::NoGradGuard ng;
    auto handle = m.model().model().hooks().add(point, [&](at::Tensor& act, const harness::HookContext&) {
      act = act.clone();
      act.select(0, 0).select(0, sp.subject_last).add_(delta.to(act.device(), act.scalar_type()));
    });
    const auto ids = at::tensor(sp.ids, at::kLong).unsqueeze(0).to(m.model().model().device());
    return at::log_softmax(m.model().model().forward(ids)[0][sp.subject_last].to(at::kDouble).cpu(), -1);  // [vocab]
  };
  const auto edited = log_p(v.delta), base = log_p(at::zeros_like(v.delta));
  const double kl_edited_base = (edited.exp() * (edited - base)).sum().item<double>();
  const double kl_base_edited = (base.exp() * (base - edited)).sum().item<double>();
  EXPECT_GT(std::abs(kl_edited_base - kl_base_edited), 1e-3 * kl_edited_base) << "the directions must differ here";
  EXPECT_NEAR(v.kl, kl_edited_base, 1e-5 * std::max(1.0, kl_edited_base));
}

}  // namespace
}  // namespace editgate::editors
