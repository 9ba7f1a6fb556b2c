// The quadratic (QDA) probe (editors/quadratic_probe): reads a variance-coded
// concept the linear probe cannot.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "editors/logistic_probe.h"
#include "editors/probe_metrics.h"
#include "editors/probe_recovery.h"
#include "editors/quadratic_probe.h"
#include "tests/editors/synthetic_concept.h"

namespace editgate::testing {
namespace {

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
