// MEMIT and AlphaEdit on random-weight models: the batched value optimisation
// equals the serial one, its KL term runs from the edited to the base
// distribution, keys average within template groups and then over them, one
// MEMIT layer solves its normal equations, spreading
// over layers shrinks the residual, AlphaEdit's update leaves C's principal
// subspace alone (ΔW(I − P) = 0) and accumulates the keys of its rounds.

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <c10/core/GradMode.h>
#include <gtest/gtest.h>

#include "editors/context_templates.h"
#include "editors/memit.h"
#include "editors/second_moment.h"
#include "editors/subject_activations.h"
#include "tests/editors/edit_test_model.h"

namespace editgate::editors {
namespace {

using testing::EditTestModel;

MemitHparams small_hparams(std::vector<int64_t> layers) {
  MemitHparams h;
  h.layers = std::move(layers);
  h.context.length_count = {{4, 2}};
  h.context.seed_words.clear();
  h.value.num_steps = 10;
  h.value.clamp_norm_factor = 4;
  h.mom2_update_weight = 5;
  return h;
}

at::Tensor statistic(EditTestModel& m, int64_t layer) {
  SecondMomentOptions o;
  o.layers = {layer};
  o.show_progress = false;
  return compute_second_moments(m.model(), TextCorpus::from_documents("t", testing::test_corpus_documents(60)), o)[0].mom2;
}

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

// MEMIT's keys: the mean within each template group, then over the groups.
TEST(Memit, KeysAverageWithinGroupsThenOverGroups) {
  EditTestModel m;
  const auto reqs = testing::test_requests(2);
  ContextTemplateParams tp;
  tp.length_count = {{4, 2}, {3, 1}};
  const auto templates = sample_context_templates(m.model(), tp, 0);
  const auto groups = context_template_groups(tp);
  ASSERT_EQ(groups, (std::vector<int64_t>{1, 2, 1}));
  ASSERT_EQ(templates.size(), 4u);
  std::vector<at::Tensor> each;  // [n, d_mlp] per template
  for (const auto& t : templates) each.push_back(mean_subject_keys(m.model(), reqs, {t}, 0).to(at::kDouble));
  const auto expected = (each[0] + (each[1] + each[2]) / 2 + each[3]) / 3;
  const auto got = mean_subject_keys(m.model(), reqs, templates, 0, groups).to(at::kDouble);
  EXPECT_LT((got - expected).abs().max().item<double>(), 1e-5);
  // Without groups every template weighs alike (ROME's k̄).
  const auto uniform = mean_subject_keys(m.model(), reqs, templates, 0).to(at::kDouble);
  EXPECT_LT((uniform - (each[0] + each[1] + each[2] + each[3]) / 4).abs().max().item<double>(), 1e-5);
  EXPECT_THROW(mean_subject_keys(m.model(), reqs, templates, 0, {1, 2}), c10::Error);
}

TEST(Memit, OneLayerSolvesTheNormalEquations) {
  EditTestModel m;
  const auto reqs = testing::test_requests(4);
  const auto h = small_hparams({0});
  const auto templates = sample_context_templates(m.model(), h.context, 0);
  const auto c = statistic(m, 0);
  // MEMIT averages the keys per template group ("{}", then the two prefixes), then over the groups.
  const auto groups = context_template_groups(h.context);
  const auto k = mean_subject_keys(m.model(), reqs, templates, 0, groups).to(at::kDouble).t().cpu();  // [d_mlp, n]
  const auto before = bare_prompt_activations(m.model(), reqs, {0, harness::HookSite::kResidPost}).to(at::kDouble).cpu();
  const auto r = apply_memit(m.model(), reqs, h, templates, {{0, c}}, MemitSolver::kMemit);
  std::vector<at::Tensor> zs;
  for (const auto& v : r.values) zs.push_back(v.v0.to(at::kDouble) + v.delta.to(at::kDouble));
  const auto res = (at::stack(zs, 0) - before).t();  // [d_model, n]
  const auto dw = r.layers[0].delta_w;
  // ΔW (λC + KKᵀ) = Res Kᵀ
  const auto lhs = dw.mm(h.mom2_update_weight * c.cpu() + k.mm(k.t()));
  const auto rhs = res.mm(k.t());
  EXPECT_LT(((lhs - rhs).norm() / rhs.norm()).item<double>(), 1e-6);
  EXPECT_EQ(at::linalg_matrix_rank(dw).item<int64_t>(), 4);
}

TEST(Memit, SpreadingOverLayersShrinksTheResidual) {
  EditTestModel m;
  const auto reqs = testing::test_requests(3);
  auto h = small_hparams({0, 1});
  h.mom2_update_weight = 0.1;
  const auto templates = sample_context_templates(m.model(), h.context, 0);
  const auto r = apply_memit(m.model(), reqs, h, templates, {{0, statistic(m, 0)}, {1, statistic(m, 1)}},
                             MemitSolver::kMemit);
  ASSERT_EQ(r.layers.size(), 2u);
  EXPECT_LT(r.final_residual_norm, r.layers[0].residual_norm);
  EXPECT_GT(r.layers[1].delta_w.norm().item<double>(), 0);
}

TEST(AlphaEdit, UpdateIsZeroOnThePreservedSubspace) {
  EditTestModel m;
  const auto reqs = testing::test_requests(3);
  auto h = small_hparams({0});
  const auto c = statistic(m, 0);
  // A threshold halfway between two eigenvalues, so P is a proper projector. (At an
  // eigenvalue itself, the projector's eigh and this eigvalsh may round it to either side.)
  const auto evals = at::linalg_eigvalsh(c.cpu());
  const int64_t half = evals.size(0) / 2;
  h.nullspace_threshold = (evals[half - 1].item<double>() + evals[half].item<double>()) / 2;
  AlphaEditState state;
  const auto templates = sample_context_templates(m.model(), h.context, 0);
  const auto r = apply_memit(m.model(), reqs, h, templates, {{0, c}}, MemitSolver::kAlphaEdit, &state);
  const auto p = state.projector.at(0).cpu();
  EXPECT_EQ(state.null_dims.at(0), half);
  EXPECT_LT((p.mm(p) - p).abs().max().item<double>(), 1e-9);
  const auto dw = r.layers[0].delta_w;
  const auto eye = at::eye(p.size(0), p.options());
  EXPECT_LT((dw.mm(eye - p).norm() / dw.norm()).item<double>(), 1e-9);
  EXPECT_GT(dw.norm().item<double>(), 0);
  // The round's keys join K_p: the cache is K Kᵀ, symmetric and non-zero.
  const auto cache = state.cache_c.at(0).cpu();
  EXPECT_GT(cache.norm().item<double>(), 0);
  EXPECT_LT((cache - cache.t()).abs().max().item<double>(), 1e-12);
}

TEST(AlphaEdit, ProjectorSpansSmallEigenvalues) {
  const auto q = std::get<0>(at::linalg_qr(at::randn({5, 5}, at::kDouble)));
  const auto c = q.mm(at::diag(at::tensor({1e-4, 1e-3, 0.5, 2.0, 3.0}, at::kDouble))).mm(q.t());
  int64_t dims = 0;
  const auto p = alphaedit_projector(c, 2e-2, &dims);
  EXPECT_EQ(dims, 2);
  const auto expected = q.narrow(1, 0, 2).mm(q.narrow(1, 0, 2).t());
  EXPECT_LT((p - expected).abs().max().item<double>(), 1e-10);
}

}  // namespace
}  // namespace editgate::editors
