// The demonstration: a 2- and a 5-class concept encoded both linearly
// and non-linearly in d = 128 features, probed on n = 20000 held-out rows
// (14000 train, 6000 test). After LEACE the linear probe falls to the
// majority-class rate within its interval while a quadratic probe still beats
// chance: LEACE promises linear guarding only. Prints the numbers.
//
// Out of sample the guarantee is approximate: an eraser fitted on n_fit rows
// misses the concept's direction by sampling error, leaving a whitened class-mean
// difference of about sqrt(d / (n_fit p(1-p))) that a held-out probe can read
// (concept-erasure's own LeaceFitter shows the same: 0.533 vs chance 0.511 at
// n_fit = 8000, d = 128). So the demonstration fits the eraser on 200000 further
// rows of the same distribution (streamed in batches), and FiniteFitLeak shows
// the leak and how it shrinks with n_fit.
#include <ATen/ATen.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <iostream>

#include "editors/probe_recovery.h"
#include "tests/editors/synthetic_concept.h"

namespace editgate::testing {
namespace {

constexpr int64_t kProbeRows = 20000;
constexpr int64_t kDim = 128;

std::string line(const char* what, const editors::ProbeReport& r) {
  return fmt::format("{:<14} acc {:.4f} [{:.4f}, {:.4f}] n={} chance {:.4f}; balanced {:.4f} (1/k {:.4f}); "
                     "log-loss {:.4f} (prior {:.4f})",
                     what, r.accuracy, r.accuracy_interval.low, r.accuracy_interval.high, r.n_test, r.chance_accuracy,
                     r.balanced_accuracy, r.chance_balanced_accuracy, r.log_loss, r.prior_log_loss);
}

// fit: n_fit rows; probe_train: 70 % of kProbeRows; probe_test: 30 %.
editors::ErasureSplit demo_split(int64_t k, int64_t n_fit, uint64_t seed, double nonlinear) {
  const int64_t n = n_fit + kProbeRows;
  const auto data = make_concept({.n = n, .d = kDim, .k = k, .linear = 1.5, .nonlinear = nonlinear, .seed = seed});
  const double fit = static_cast<double>(n_fit) / static_cast<double>(n);
  const double train = 0.7 * static_cast<double>(kProbeRows) / static_cast<double>(n);
  return editors::ErasureSplit::stratified(data, {fit, train}, 1);
}

class SyntheticDemo : public ::testing::TestWithParam<int64_t> {};

TEST_P(SyntheticDemo, LinearProbeFallsToMajorityRateWhileQuadraticProbeStillReadsTheConcept) {
  const int64_t k = GetParam();
  const auto split = demo_split(k, 200000, 2024, 1.5);
  const auto ev = editors::evaluate_erasure(split);
  std::cout << fmt::format("k={}, n_fit={}, d={}: LEACE rank {}, mean squared change {:.4f}\n", k, split.fit().size(),
                           kDim, ev.fit.rank, ev.mean_squared_change)
            << "  " << line("linear before", ev.linear_before) << "\n  " << line("linear after", ev.linear_after)
            << "\n  " << line("QDA before", *ev.quadratic_before) << "\n  " << line("QDA after", *ev.quadratic_after)
            << "\n";
  RecordProperty("linear_after_accuracy", fmt::format("{:.4f}", ev.linear_after.accuracy));
  RecordProperty("linear_after_chance", fmt::format("{:.4f}", ev.linear_after.chance_accuracy));
  RecordProperty("quadratic_after_accuracy", fmt::format("{:.4f}", ev.quadratic_after->accuracy));

  EXPECT_NEAR(static_cast<double>(ev.linear_after.n_test + ev.linear_after.n_train), kProbeRows, 5);  // per-class rounding
  EXPECT_GT(ev.linear_before.accuracy, ev.linear_before.chance_accuracy + 0.2);
  // After: no better than the constant predictor, within the Wilson interval and the 0.02 gate.
  EXPECT_LE(ev.linear_after.accuracy_interval.low, ev.linear_after.chance_accuracy);
  EXPECT_LE(ev.linear_after.accuracy, ev.linear_after.chance_accuracy + 0.02);
  EXPECT_GE(ev.linear_after.log_loss, ev.linear_after.prior_log_loss - 0.005);
  // Non-linear leakage is still there, as LEACE's guarantee allows.
  EXPECT_TRUE(ev.quadratic_after->beats_chance());
  EXPECT_GT(ev.quadratic_after->accuracy, ev.quadratic_after->chance_accuracy + 0.05);
}

INSTANTIATE_TEST_SUITE_P(Concepts, SyntheticDemo, ::testing::Values(int64_t{2}, int64_t{5}),
                         [](const auto& info) { return "K" + std::to_string(info.param); });

TEST(FiniteFitLeak, HeldOutLinearProbeReadsTheFitsSamplingErrorWhichShrinksWithMoreFitRows) {
  // Linear encoding only, so whatever the probe finds after erasure is the eraser's estimation error.
  double excess[2] = {0, 0};
  const int64_t sizes[2] = {8000, 128000};
  for (int i = 0; i < 2; ++i) {
    editors::ProbeSuiteOptions probes;
    probes.quadratic = false;
    const auto ev = editors::evaluate_erasure(demo_split(2, sizes[i], 77, 0.0), {}, probes);
    excess[i] = ev.linear_after.accuracy - ev.linear_after.chance_accuracy;
    std::cout << fmt::format("n_fit={:>6}: ", sizes[i]) << line("linear after", ev.linear_after) << "\n";
  }
  EXPECT_GT(excess[0], 0.01);  // at n_fit = 8000, d = 128 the leak is visible
  EXPECT_LT(excess[1], excess[0]);
  EXPECT_LT(excess[1], 0.02);
}

}  // namespace
}  // namespace editgate::testing
