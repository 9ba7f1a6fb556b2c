// Probes and their held-out metrics: the Wilson interval, chance as the
// majority rate of the test split, balanced accuracy, log-loss against the
// prior, determinism of the logistic probe, and what the linear and quadratic
// probes can and cannot read.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "editors/logistic_probe.h"
#include "editors/probe_metrics.h"
#include "editors/probe_recovery.h"
#include "editors/quadratic_probe.h"
#include "tests/editors/synthetic_concept.h"

namespace editgate::testing {
namespace {

TEST(ProbeMetrics, WilsonIntervalMatchesKnownValues) {
  const auto a = editors::wilson_interval(50, 100);
  EXPECT_NEAR(a.low, 0.4038, 1e-4);
  EXPECT_NEAR(a.high, 0.5962, 1e-4);
  const auto b = editors::wilson_interval(0, 10);
  EXPECT_DOUBLE_EQ(b.low, 0.0);
  EXPECT_NEAR(b.high, 0.2775, 1e-4);
  const auto c = editors::wilson_interval(6000 / 2, 6000);  // ±1.26 pp at n = 6000
  EXPECT_NEAR(c.high - 0.5, 0.01265, 1e-4);
}

// 80 subjects of 12 rows each, every subject's rows all right or all wrong:
// 960 rows, but only 80 independent outcomes, which is what the interval uses.
TEST(ProbeMetrics, ClusteredIntervalCountsSubjectsNotTheirRepeatedRows) {
  const at::Tensor groups = at::arange(960, at::kLong).div(12, "floor");
  const at::Tensor correct = (groups % 2) == 0;
  EXPECT_DOUBLE_EQ(editors::clustered_effective_n(correct, groups), 80.0);

  const at::Tensor z = at::zeros({960}, at::kLong);
  // Class 0 predicted on the right rows, class 1 on the others.
  const at::Tensor p0 = at::where(correct, 0.9, 0.1).to(at::kDouble);
  const at::Tensor lp = at::stack({p0, 1.0 - p0}, 1).log();
  const auto r = editors::score_predictions(lp, z, at::tensor(std::vector<int64_t>{5, 5}), groups);
  EXPECT_EQ(r.n_groups, 80);
  EXPECT_DOUBLE_EQ(r.effective_n, 80.0);
  const auto expected = editors::wilson_interval_of_rate(0.5, 80.0);
  EXPECT_DOUBLE_EQ(r.accuracy_interval.low, expected.low);
  EXPECT_DOUBLE_EQ(r.accuracy_interval.high, expected.high);
  const auto rows = editors::wilson_interval(480, 960);
  EXPECT_GT(rows.low, r.accuracy_interval.low + 0.05);  // the row-based interval would be far too narrow

  const auto unclustered = editors::score_predictions(lp, z, at::tensor(std::vector<int64_t>{5, 5}));
  EXPECT_EQ(unclustered.n_groups, 0);
  EXPECT_DOUBLE_EQ(unclustered.accuracy_interval.low, rows.low);
}

TEST(ProbeMetrics, ClusteredIntervalOfIndependentOutcomesKeepsTheRowCount) {
  // One row per subject: nothing is repeated, and n stays n (up to the m / (m - 1) correction).
  const at::Tensor singletons = at::arange(1000, at::kLong);
  const at::Tensor correct = (at::arange(1000, at::kLong) % 3) != 0;
  EXPECT_NEAR(editors::clustered_effective_n(correct, singletons), 1000.0, 1.0);
  // Outcomes that vary within subjects as much as between them: a design effect near 1.
  const at::Tensor pairs = at::arange(1000, at::kLong).div(2, "floor");
  const at::Tensor alternating = (at::arange(1000, at::kLong) % 2) == 0;
  EXPECT_DOUBLE_EQ(editors::clustered_effective_n(alternating, pairs), 1000.0);
  // Every outcome the same: the variance says nothing and the subjects are counted.
  EXPECT_DOUBLE_EQ(editors::clustered_effective_n(at::ones({1000}, at::kBool), pairs), 500.0);
}

// Cross-validation scores every row once, reads a real concept, and on labels
// that carry nothing (one random label per subject) stays at chance.
TEST(ProbeRecovery, CrossValidatedProbeScoresEveryRowOnceAndFindsNothingInNoise) {
  at::manual_seed(5);
  const int64_t subjects = 120, rows = 6, d = 8;
  const at::Tensor subject = at::arange(subjects, at::kLong).repeat_interleave(rows);
  const at::Tensor mean = at::randn({subjects, d}, at::kDouble);
  const at::Tensor x = mean.index_select(0, subject) + 0.3 * at::randn({subjects * rows, d}, at::kDouble);
  const at::Tensor readable = (mean.select(1, 0) > 0).to(at::kLong).index_select(0, subject);
  const at::Tensor noise = at::randint(0, 2, {subjects}, at::kLong).index_select(0, subject);
  const auto split_of = [&](const at::Tensor& z, const at::Tensor& groups) {
    const auto half = subjects * rows / 2;  // parts by subject: rows are grouped in order
    const editors::LabeledData all{x, z, 2, groups};
    return editors::ProbeSplit::from_parts(editors::select_rows(all, at::arange(half, at::kLong)),
                                           editors::select_rows(all, at::arange(half, subjects * rows, at::kLong)));
  };
  const auto real = editors::probe_logistic_cv(split_of(readable, subject));
  EXPECT_EQ(real.n_test, subjects * rows);
  EXPECT_EQ(real.n_groups, subjects);
  EXPECT_EQ(real.folds, 5);
  EXPECT_GT(real.accuracy, 0.9);
  const auto null = editors::probe_logistic_cv(split_of(noise, subject));
  EXPECT_FALSE(null.beats_chance()) << null.accuracy << " [" << null.accuracy_interval.low << ", "
                                    << null.accuracy_interval.high << "] vs " << null.chance_accuracy;
  const auto qda = editors::probe_quadratic_cv(split_of(readable, subject), {.folds = 4, .seed = 1});
  EXPECT_EQ(qda.folds, 4);
  EXPECT_EQ(qda.n_test, subjects * rows);
  // Parts that number their subjects independently (both from 0) still hold 120 subjects.
  const auto renumbered = editors::probe_logistic_cv(split_of(readable, subject % (subjects / 2)));
  EXPECT_EQ(renumbered.n_groups, subjects);
  EXPECT_EQ(renumbered.accuracy, real.accuracy);
}

TEST(ProbeMetrics, ChanceIsTheMajorityRateOfTheTestSplit) {
  // 10 test rows: 7 of class 0, 3 of class 1; the predictor says class 0 always.
  const at::Tensor z = at::tensor(std::vector<int64_t>{0, 0, 0, 0, 0, 0, 0, 1, 1, 1});
  const at::Tensor lp = at::log(at::tensor(std::vector<double>{0.6, 0.4}, at::kDouble)).repeat({10, 1});
  const at::Tensor train_counts = at::tensor(std::vector<int64_t>{60, 40});
  const auto r = editors::score_predictions(lp, z, train_counts);
  EXPECT_DOUBLE_EQ(r.accuracy, 0.7);
  EXPECT_DOUBLE_EQ(r.chance_accuracy, 0.7);
  EXPECT_DOUBLE_EQ(r.balanced_accuracy, 0.5);
  EXPECT_DOUBLE_EQ(r.chance_balanced_accuracy, 0.5);
  EXPECT_NEAR(r.log_loss, -(0.7 * std::log(0.6) + 0.3 * std::log(0.4)), 1e-12);
  EXPECT_NEAR(r.prior_log_loss, r.log_loss, 1e-12);  // the predictor is the prior
  EXPECT_EQ(r.n_test, 10);
  EXPECT_EQ(r.n_train, 100);
  EXPECT_FALSE(r.beats_chance());
  EXPECT_EQ(r.test_class_counts, (std::vector<int64_t>{7, 3}));
}

TEST(ProbeMetrics, LogLossClipsImpossibleClasses) {
  const at::Tensor z = at::tensor(std::vector<int64_t>{1});
  const at::Tensor lp = at::tensor(std::vector<double>{0.0, -INFINITY}, at::kDouble).view({1, 2});
  const auto r = editors::score_predictions(lp, z, at::tensor(std::vector<int64_t>{5, 0}));
  EXPECT_NEAR(r.log_loss, -std::log(1e-15), 1e-9);
  EXPECT_NEAR(r.prior_log_loss, -std::log(1e-15), 1e-9);
}

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

TEST(QuadraticProbe, ReadsAVarianceCodedConceptTheLinearProbeCannot) {
  const auto data = make_concept({.n = 6000, .d = 8, .k = 2, .linear = 0.0, .nonlinear = 3.0, .seed = 12});
  const auto split = editors::ProbeSplit::stratified(data, 0.3, 3);
  const auto linear = editors::probe_logistic(split);
  const auto quadratic = editors::probe_quadratic(split);
  EXPECT_LE(linear.accuracy_interval.low, linear.chance_accuracy + 0.01);
  EXPECT_TRUE(quadratic.beats_chance()) << quadratic.accuracy << " vs " << quadratic.chance_accuracy;
  EXPECT_GT(quadratic.accuracy, 0.6);
}

}  // namespace
}  // namespace editgate::testing
