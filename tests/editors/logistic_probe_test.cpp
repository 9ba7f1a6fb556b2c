// The logistic probe (editors/logistic_probe): deterministic, reads a linear
// concept and stops at the optimum, stays at chance on random labels.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "editors/logistic_probe.h"
#include "editors/probe_metrics.h"
#include "editors/probe_recovery.h"
#include "editors/quadratic_probe.h"
#include "tests/editors/synthetic_concept.h"

namespace editgate::testing {
namespace {

TEST(LogisticProbe, IsDeterministic) {
  const auto data = make_concept({.n = 1500, .d = 12, .k = 3, .linear = 0.5, .seed = 4});
  const auto a = editors::LogisticProbe::fit(data);
  const auto b = editors::LogisticProbe::fit(data);
  EXPECT_TRUE(at::equal(a.input_space_weight(), b.input_space_weight()));
  EXPECT_TRUE(at::equal(a.log_proba(data.x), b.log_proba(data.x)));
  EXPECT_TRUE(a.optimisation().converged);
}

TEST(LogisticProbe, ReadsALinearConceptAndStopsAtTheOptimum) {
  const auto data = make_concept({.n = 3000, .d = 10, .k = 5, .linear = 3.0, .seed = 6});
  const auto split = editors::ProbeSplit::stratified(data, 0.3, 1);
  const auto r = editors::probe_logistic(split);
  EXPECT_GT(r.accuracy, 0.9);
  EXPECT_TRUE(r.beats_chance());
  EXPECT_LT(r.log_loss, r.prior_log_loss);
  EXPECT_TRUE(r.converged);
  // The gradient of the (scaled) objective is ~0 at the returned weights.
  const auto probe = editors::LogisticProbe::fit(split.train());
  EXPECT_LT(probe.optimisation().grad_max, 1e-6);
}

TEST(LogisticProbe, RandomLabelsStayWithinChance) {
  auto data = make_concept({.n = 4000, .d = 8, .k = 2, .linear = 0.0, .class_probs = {0.7, 0.3}, .seed = 8});
  const auto r = editors::probe_logistic(editors::ProbeSplit::stratified(data, 0.3, 2));
  EXPECT_LE(r.accuracy_interval.low, r.chance_accuracy);
  EXPECT_NEAR(r.chance_accuracy, 0.7, 0.03);
  EXPECT_NEAR(r.log_loss, r.prior_log_loss, 0.02);
}

TEST(LogisticProbe, ClassesAbsentFromTrainingGetZeroProbability) {
  auto data = make_concept({.n = 600, .d = 5, .k = 3, .linear = 2.0, .seed = 10});
  data.num_classes = 4;
  const auto probe = editors::LogisticProbe::fit(data);
  const at::Tensor lp = probe.log_proba(data.x);
  EXPECT_EQ(lp.size(1), 4);
  EXPECT_TRUE(at::isinf(lp.select(1, 3)).all().item<bool>());
  EXPECT_NEAR(lp.narrow(1, 0, 3).exp().sum(1).mean().item<double>(), 1.0, 1e-12);
}

}  // namespace
}  // namespace editgate::testing
