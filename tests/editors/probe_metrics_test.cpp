// Held-out probe metrics (editors/probe_metrics): the Wilson interval and its
// subject-clustered version, chance as the majority rate of the test split,
// log-loss against the prior.

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

}  // namespace
}  // namespace editgate::testing
