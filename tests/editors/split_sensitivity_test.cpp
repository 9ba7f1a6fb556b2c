// Split sensitivity: LEACE fitted on few subjects per class leaves a residual
// of each class mean that unseen subjects share, so a probe on other subjects
// beats chance; with many subjects per class the same pipeline sits at chance.
// Also the bookkeeping: one entry per split, distinct seeds, deterministic.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <numeric>

#include "editors/split_sensitivity.h"

namespace editgate::testing {
namespace {

// `subjects_per_class` subjects per class, 4 rows each: a class mean along the
// first axis (strongly readable), a per-subject offset in every direction
// (what the fit must average out), and a little per-row noise.
editors::LabeledData subjects(int64_t subjects_per_class, int64_t d, uint64_t seed) {
  constexpr int64_t kRows = 4;
  constexpr int64_t kClasses = 2;
  at::manual_seed(seed);
  const int64_t m = subjects_per_class * kClasses;
  const at::Tensor label = at::arange(m, at::kLong) % kClasses;
  at::Tensor mean = at::randn({m, d}, at::kDouble);
  mean.select(1, 0).add_(label.to(at::kDouble) * 4.0);
  const at::Tensor subject = at::arange(m, at::kLong).repeat_interleave(kRows);
  const at::Tensor x = mean.index_select(0, subject) + 0.1 * at::randn({m * kRows, d}, at::kDouble);
  return editors::LabeledData{x, label.index_select(0, subject), kClasses, subject};
}

double mean_excess(const editors::SplitSensitivity& s) {
  double sum = 0.0;
  for (size_t i = 0; i < s.accuracy_after.size(); ++i) sum += s.accuracy_after[i] - s.chance[i];
  return sum / static_cast<double>(s.accuracy_after.size());
}

editors::SplitSensitivityOptions options(int64_t splits) {
  editors::SplitSensitivityOptions o;
  o.splits = splits;
  o.fractions = {0.5, 0.3};
  return o;
}

TEST(SplitSensitivity, FewSubjectsPerClassLeaveAResidualThatManySubjectsRemove) {
  // The residual of a class mean fitted on n subjects is about sqrt(d / n) within-class
  // standard deviations, so d is kept small and n varied.
  const auto few = editors::split_sensitivity(subjects(20, 4, 1), options(6));
  const auto many = editors::split_sensitivity(subjects(2000, 4, 1), options(6));
  for (const auto* s : {&few, &many}) {
    // The concept is there to erase (one split of 10 probe subjects per class can be unlucky: the mean).
    const double mean_before = std::accumulate(s->accuracy_before.begin(), s->accuracy_before.end(), 0.0) /
                               static_cast<double>(s->accuracy_before.size());
    EXPECT_GT(mean_before, 0.85);
  }
  std::cout << "excess over chance after LEACE: 20 subjects per class " << mean_excess(few)
            << ", 2000 per class " << mean_excess(many) << "\n";
  EXPECT_GT(mean_excess(few), 0.05);
  EXPECT_LT(std::abs(mean_excess(many)), 0.02);
}

TEST(SplitSensitivity, ReportsEverySplitDeterministically) {
  const auto data = subjects(40, 8, 2);
  const auto a = editors::split_sensitivity(data, options(5));
  const auto b = editors::split_sensitivity(data, options(5));
  EXPECT_EQ(a.seeds, (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(a.accuracy_after, b.accuracy_after);
  EXPECT_EQ(a.accuracy_before.size(), 5u);
  // Different seeds put different subjects in the test part.
  EXPECT_NE(std::adjacent_find(a.accuracy_before.begin(), a.accuracy_before.end(), std::not_equal_to<>()),
            a.accuracy_before.end());
  const auto j = a.to_json();
  EXPECT_EQ(j["splits"], 5);
  EXPECT_EQ(j["linear_after"]["values"].size(), 5u);
  EXPECT_LE(j["linear_after"]["min"].get<double>(), j["linear_after"]["mean"].get<double>());
}

TEST(SplitSensitivity, NeedsSubjectIds) {
  auto data = subjects(10, 4, 3);
  data.groups = at::Tensor();
  EXPECT_THROW(editors::split_sensitivity(data, options(1)), c10::Error);
}

}  // namespace
}  // namespace editgate::testing
