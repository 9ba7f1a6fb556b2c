// Probe recovery (editors/probe_recovery): the cross-validated probe scores every
// row once and finds nothing in noise.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "editors/logistic_probe.h"
#include "editors/probe_metrics.h"
#include "editors/probe_recovery.h"
#include "editors/quadratic_probe.h"
#include "tests/editors/synthetic_concept.h"

namespace editgate::testing {
namespace {

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

}  // namespace
}  // namespace editgate::testing
