// LEACE's guarantees on synthetic data, for k = 2 and 5 over every combination
// of method, shrinkage and affine: zero cross-covariance with Z after erasure,
// equal class means, idempotence, edit rank <= k-1, preserved mean, LEACE's
// change below orth's, oracle's below LEACE's, streamed fit = one-batch fit;
// plus the relative tolerance, its report and warnings.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <iostream>
#include <nlohmann/json.hpp>
#include <tuple>

#include "editors/leace.h"
#include "editors/oracle_leace.h"
#include "editors/probe_recovery.h"
#include "harness/input_error.h"
#include "tests/editors/synthetic_concept.h"

namespace editgate::testing {
namespace {

using editors::ErasureMethod;
using editors::LeaceOptions;

// (k, method, shrinkage, affine)
using Combo = std::tuple<int64_t, ErasureMethod, bool, bool>;

class LeaceGuarantees : public ::testing::TestWithParam<Combo> {
 protected:
  void SetUp() override {
    const auto [k, method, shrinkage, affine] = GetParam();
    data_ = make_concept({.n = 3000, .d = 24, .k = k, .linear = 2.0, .seed = 7});
    options_.method = method;
    options_.shrinkage = shrinkage;
    options_.affine = affine;
    fit_ = editors::fit_leace(data_, options_);
    erased_ = fit_.eraser.apply(data_.x);
  }
  int64_t k() const { return std::get<0>(GetParam()); }

  editors::LabeledData data_;
  LeaceOptions options_;
  editors::LeaceFit fit_;
  at::Tensor erased_;  // [n, d]
};

TEST_P(LeaceGuarantees, CrossCovarianceWithZIsZeroAfterErasure) {
  const double before = cross_covariance(data_.x, data_.z, k()).abs().max().item<double>();
  const double after = cross_covariance(erased_, data_.z, k()).abs().max().item<double>();
  EXPECT_GT(before, 0.05);
  EXPECT_LT(after, 1e-10) << "before " << before;
}

TEST_P(LeaceGuarantees, ClassConditionalMeansAreEqualAfterErasure) {
  const at::Tensor before = class_means(data_.x, data_.z, k());
  const at::Tensor after = class_means(erased_, data_.z, k());
  EXPECT_GT((before - before[0]).abs().max().item<double>(), 0.1);
  EXPECT_LT((after - after[0]).abs().max().item<double>(), 1e-10);
}

TEST_P(LeaceGuarantees, MapIsIdempotent) {
  EXPECT_LT(max_diff(fit_.eraser.apply(erased_), erased_), 1e-10);
  const at::Tensor p = fit_.eraser.projection();
  EXPECT_LT(max_diff(at::matmul(p, p), p), 1e-10);
}

TEST_P(LeaceGuarantees, EditRankIsAtMostKMinusOne) {
  EXPECT_EQ(fit_.report.rank, k() - 1);
  EXPECT_EQ(fit_.eraser.rank(), k() - 1);
  const at::Tensor s = at::linalg_svdvals(erased_ - data_.x);
  EXPECT_EQ((s > 1e-8 * s[0].item<double>()).sum().item<int64_t>(), k() - 1);
  EXPECT_TRUE(fit_.report.warnings.empty()) << fit_.report.warnings.front();
}

TEST_P(LeaceGuarantees, MeanIsPreservedWhenAffineAndProjectedWhenNot) {
  if (options_.affine) {
    EXPECT_LT(max_diff(erased_.mean(0), data_.x.mean(0)), 1e-10);
  } else {
    // No mean term: bias 0, x' = P x, so the mean moves to P mean.
    EXPECT_EQ(fit_.eraser.bias.abs().max().item<double>(), 0.0);
    const at::Tensor moved = at::matmul(fit_.eraser.projection(), data_.x.mean(0));
    EXPECT_LT(max_diff(erased_.mean(0), moved), 1e-10);
    EXPECT_GT(max_diff(erased_.mean(0), data_.x.mean(0)), 1e-3);
  }
}

TEST_P(LeaceGuarantees, StreamedFitEqualsOneBatchFit) {
  for (int64_t batch : {1, 7, 256, 1000}) {
    const auto streamed = editors::fit_leace(data_, options_, batch);
    EXPECT_LT(max_diff(streamed.eraser.projection(), fit_.eraser.projection()), 1e-9) << "batch " << batch;
    EXPECT_LT(max_diff(streamed.eraser.bias, fit_.eraser.bias), 1e-10) << "batch " << batch;
  }
  // Statistics of two shards merged = statistics of the whole.
  auto a = editors::accumulate_statistics({data_.x.narrow(0, 0, 1234), data_.z.narrow(0, 0, 1234), k()}, 100);
  const auto b = editors::accumulate_statistics({data_.x.narrow(0, 1234, 3000 - 1234), data_.z.narrow(0, 1234, 3000 - 1234), k()});
  a.merge(b);
  const auto merged = editors::fit_leace(a, options_);
  EXPECT_LT(max_diff(merged.eraser.projection(), fit_.eraser.projection()), 1e-9);
  EXPECT_LT(max_diff(merged.eraser.bias, fit_.eraser.bias), 1e-10);
  EXPECT_EQ(a.count(), 3000);
}

std::string combo_name(const ::testing::TestParamInfo<Combo>& info) {
  const auto [k, method, shrinkage, affine] = info.param;
  return "K" + std::to_string(k) + (method == ErasureMethod::kLeace ? "Leace" : "Orth") +
         (shrinkage ? "Shrunk" : "Plain") + (affine ? "Affine" : "Linear");
}

INSTANTIATE_TEST_SUITE_P(AllOptions, LeaceGuarantees,
                         ::testing::Combine(::testing::Values(int64_t{2}, int64_t{5}),
                                            ::testing::Values(ErasureMethod::kLeace, ErasureMethod::kOrth),
                                            ::testing::Bool(), ::testing::Bool()),
                         combo_name);

// The invariant streamed `erase` rests on: statistics accumulated chunk by chunk
// (any chunk size) equal the one-shot ones to rounding.
TEST(LeaceStatistics, ChunkedEqualsOneShot) {
  const int64_t k = 5;
  const auto data = make_concept({.n = 3000, .d = 24, .k = k, .linear = 2.0, .seed = 7});
  const auto whole = editors::accumulate_statistics(data);
  for (int64_t batch : {1, 7, 256, 2999}) {
    SCOPED_TRACE(batch);
    const auto s = editors::accumulate_statistics(data, batch);
    EXPECT_EQ(s.count(), whole.count());
    EXPECT_TRUE(at::equal(s.class_counts(), whole.class_counts()));
    EXPECT_LT(max_diff(s.mean_x(), whole.mean_x()), 1e-13);
    EXPECT_LT(max_diff(s.mean_z(), whole.mean_z()), 1e-13);
    for (const bool shrinkage : {false, true}) {
      EXPECT_LT(max_diff(s.sigma_xx(shrinkage).sigma, whole.sigma_xx(shrinkage).sigma), 1e-12);
    }
    EXPECT_LT(max_diff(s.sigma_xz(), whole.sigma_xz()), 1e-13);
    EXPECT_LT(max_diff(s.sigma_zz(), whole.sigma_zz()), 1e-13);
  }
  // The cross-only statistics (erase's after-erasure check) give the same Σ_XZ
  // and refuse what they do not keep.
  editors::LeaceStatistics cross(data.dim(), k, at::kCPU, editors::Moments::kCrossOnly);
  for (int64_t start = 0; start < data.size(); start += 100) {
    cross.update(data.x.narrow(0, start, 100), data.z.narrow(0, start, 100));
  }
  EXPECT_LT(max_diff(cross.sigma_xz(), whole.sigma_xz()), 1e-13);
  EXPECT_THROW(cross.sigma_xx(true), c10::Error);
  EXPECT_THROW(cross.merge(whole), c10::Error);
}

TEST(Leace, ChangesLessThanOrthAndOracleLessThanLeace) {
  for (int64_t k : {2, 5}) {
    const auto data = make_concept({.n = 3000, .d = 24, .k = k, .linear = 2.0, .seed = 11});
    LeaceOptions leace{.shrinkage = false};
    LeaceOptions orth{.method = ErasureMethod::kOrth, .shrinkage = false};
    const double msc_leace = editors::mean_squared_change(editors::fit_leace(data, leace).eraser, data.x);
    const double msc_orth = editors::mean_squared_change(editors::fit_leace(data, orth).eraser, data.x);
    const auto oracle = editors::fit_oracle(editors::accumulate_statistics(data));
    const at::Tensor x_oracle = oracle.apply(data.x, data.z);
    const double msc_oracle = (x_oracle - data.x).square().sum(1).mean().item<double>();
    EXPECT_LT(msc_leace, msc_orth) << "k=" << k;
    EXPECT_LE(msc_oracle, msc_leace) << "k=" << k;
    EXPECT_LT(cross_covariance(x_oracle, data.z, k).abs().max().item<double>(), 1e-10);
    std::cout << "k=" << k << " mean squared change: oracle " << msc_oracle << ", leace " << msc_leace
              << ", orth " << msc_orth << "\n";
  }
}

TEST(Leace, RelativeToleranceErasesAWeakConceptTheAbsoluteOneLeaves) {
  // A weak but real concept: whitened singular value far below the reference's absolute 0.01.
  const auto data = make_concept({.n = 100000, .d = 4, .k = 2, .linear = 0.01, .seed = 3});
  const auto relative = editors::fit_leace(data);
  ASSERT_EQ(relative.report.singular_values.size(), 2u);
  const double s = relative.report.singular_values[0];
  EXPECT_LT(s, 0.01);
  EXPECT_GT(s, 1e-4);
  EXPECT_EQ(relative.report.rank, 1);
  EXPECT_LT(cross_covariance(relative.eraser.apply(data.x), data.z, 2).abs().max().item<double>(), 1e-12);

  const auto absolute = editors::fit_leace(data, LeaceOptions{.svd_atol = 0.01});
  EXPECT_EQ(absolute.report.rank, 0);
  ASSERT_EQ(absolute.report.dropped_singular_values.size(), 2u);
  EXPECT_DOUBLE_EQ(absolute.report.dropped_singular_values[0], s);
  ASSERT_GE(absolute.report.warnings.size(), 2u);
  EXPECT_NE(absolute.report.warnings[0].find("below k-1"), std::string::npos) << absolute.report.warnings[0];
  EXPECT_NE(absolute.report.warnings[1].find("un-erased"), std::string::npos) << absolute.report.warnings[1];
}

TEST(Leace, ReportsEveryDroppedSingularValueAndWarnsWhenRankIsBelowKMinusOne) {
  // k = 4 declared, class 3 never occurs: rank 2 < 3.
  auto data = make_concept({.n = 2000, .d = 10, .k = 3, .linear = 2.0, .seed = 5});
  data.num_classes = 4;
  const auto fit = editors::fit_leace(data);
  EXPECT_EQ(fit.report.rank, 2);
  EXPECT_EQ(fit.report.expected_rank, 3);
  EXPECT_EQ(fit.report.singular_values.size(), 4u);
  EXPECT_EQ(fit.report.dropped_singular_values.size(), 2u);  // the one-hot zero and the absent class
  ASSERT_EQ(fit.report.warnings.size(), 2u);
  EXPECT_NE(fit.report.warnings[0].find("classes 3 have no samples"), std::string::npos) << fit.report.warnings[0];
  EXPECT_NE(fit.report.warnings[1].find("erasure rank 2 is below k-1 = 3"), std::string::npos)
      << fit.report.warnings[1];
  EXPECT_EQ(fit.report.class_counts[3], 0);
}

TEST(Leace, RefittingOnErasedDataChangesNothing) {
  const auto data = make_concept({.n = 2000, .d = 12, .k = 5, .linear = 2.0, .seed = 9});
  const auto first = editors::fit_leace(data);
  const editors::LabeledData erased{first.eraser.apply(data.x), data.z, 5};
  const auto second = editors::fit_leace(erased);
  EXPECT_EQ(second.report.rank, 0);
  EXPECT_LT(max_diff(second.eraser.apply(erased.x), erased.x), 1e-12);
}

TEST(Leace, FitReportJsonCarriesTheFields) {
  const auto fit = editors::fit_leace(make_concept({.n = 500, .d = 6, .k = 3, .seed = 1}));
  const auto j = fit.report.to_json();
  for (const char* key : {"method", "rank", "expected_rank", "singular_values", "dropped_singular_values",
                          "threshold", "warnings", "class_counts", "trace_constraint_applied"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
}

TEST(Leace, ParseErasureMethodRejectsUnknownNames) {
  EXPECT_EQ(editors::parse_erasure_method("orth"), ErasureMethod::kOrth);
  EXPECT_THROW(editors::parse_erasure_method("rlace"), InputError);
}

}  // namespace
}  // namespace editgate::testing
