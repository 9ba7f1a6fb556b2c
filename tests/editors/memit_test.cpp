// MEMIT and AlphaEdit (editors/memit) on random-weight models: keys average
// within template groups and then over them, one MEMIT layer solves its normal
// equations, spreading over layers shrinks the residual, AlphaEdit's update
// leaves C's principal subspace alone (ΔW(I − P) = 0) and accumulates the keys
// of its rounds. The v*/z search they share: value_optimizer_test.cpp.

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <c10/core/GradMode.h>
#include <gtest/gtest.h>

#include <cstdio>

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

// Gemma normalises W_out's output (post_feedforward_layernorm) before the
// residual add. MEMIT's residual targets are divided by the norm's gain, so one
// layer's update still closes most of the gap to z at the last edit layer.
TEST(Memit, GemmaTargetsPassThePostNorm) {
  EditTestModel m("gemma3_text");
  const auto reqs = testing::test_requests(3);
  auto h = small_hparams({1});
  h.mom2_update_weight = 0.01;
  const auto templates = sample_context_templates(m.model(), h.context, 0);
  const auto r = apply_memit(m.model(), reqs, h, templates, {{1, statistic(m, 1)}}, MemitSolver::kMemit);
  ASSERT_EQ(r.layers.size(), 1u);
  std::printf("[memit gemma] residual %.4f -> %.4f\n", r.layers[0].residual_norm, r.final_residual_norm);
  EXPECT_LT(r.final_residual_norm, 0.5 * r.layers[0].residual_norm);
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
