#include "editors/probe_metrics.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

#include "editors/labeled_data.h"

namespace editgate::editors {
namespace {

constexpr double kProbClip = 1e-15;  // scikit-learn's log_loss clipping

}  // namespace

Interval wilson_interval(int64_t successes, int64_t n, double z) {
  if (n <= 0) return Interval{0.0, 1.0};
  return wilson_interval_of_rate(static_cast<double>(successes) / static_cast<double>(n), static_cast<double>(n), z);
}

Interval wilson_interval_of_rate(double p, double nn, double z) {
  if (!(nn > 0)) return Interval{0.0, 1.0};
  const double z2 = z * z;
  const double denom = 1.0 + z2 / nn;
  const double center = (p + z2 / (2.0 * nn)) / denom;
  const double half = z * std::sqrt(p * (1.0 - p) / nn + z2 / (4.0 * nn * nn)) / denom;
  return Interval{std::max(0.0, center - half), std::min(1.0, center + half)};
}

double clustered_effective_n(const at::Tensor& correct, const at::Tensor& groups) {
  const at::Tensor hit = correct.to(at::kCPU, at::kDouble);
  const auto n = static_cast<double>(hit.size(0));
  TORCH_CHECK(groups.dim() == 1 && groups.size(0) == hit.size(0), "clustered_effective_n: one group per row");
  const auto [ids, inverse] = at::_unique(groups.to(at::kCPU, at::kLong), /*sorted=*/true, /*return_inverse=*/true);
  const int64_t m = ids.size(0);
  if (m <= 1) return 1.0;
  const at::Tensor rows = at::zeros({m}, at::kDouble).index_add_(0, inverse, at::ones_like(hit));
  const at::Tensor hits = at::zeros({m}, at::kDouble).index_add_(0, inverse, hit);
  const double p = hit.mean().item<double>();
  const double md = static_cast<double>(m);
  // Cluster-robust (ratio-estimator) variance of p: groups are the independent draws.
  const double v = md / (md - 1.0) * (hits - p * rows).square().sum().item<double>() / (n * n);
  if (p <= 0.0 || p >= 1.0) return md;  // no spread to measure: count the subjects
  if (!(v > 0)) return n;                // every subject at the same rate: no clustering to correct for
  return std::clamp(p * (1.0 - p) / v, md, n);
}

ProbeReport score_predictions(const at::Tensor& log_proba, const at::Tensor& z_test, const at::Tensor& train_counts,
                              const at::Tensor& groups) {
  const at::Tensor lp = log_proba.to(at::kCPU, at::kDouble);  // [n, k]
  const at::Tensor z = z_test.to(at::kCPU, at::kLong);         // [n]
  const int64_t n = z.size(0);
  const int64_t k = lp.size(1);
  TORCH_CHECK(n > 0 && lp.size(0) == n, "score_predictions: ", lp.size(0), " predictions for ", n, " labels");
  ProbeReport r;
  r.n_test = n;
  r.num_classes = k;
  r.n_train = train_counts.sum().item<int64_t>();
  const at::Tensor test_counts = class_counts(z, k);
  r.test_class_counts.assign(test_counts.data_ptr<int64_t>(), test_counts.data_ptr<int64_t>() + k);

  const at::Tensor pred = lp.argmax(1);
  const at::Tensor correct = pred == z;
  const int64_t hits = correct.sum().item<int64_t>();
  r.accuracy = static_cast<double>(hits) / static_cast<double>(n);
  r.effective_n = static_cast<double>(n);
  if (groups.defined()) {
    r.n_groups = std::get<0>(at::_unique(groups.to(at::kCPU, at::kLong))).size(0);
    r.effective_n = clustered_effective_n(correct, groups);
  }
  r.accuracy_interval = wilson_interval_of_rate(r.accuracy, r.effective_n);
  r.chance_accuracy = static_cast<double>(test_counts.max().item<int64_t>()) / static_cast<double>(n);

  // Balanced accuracy: recall per class present in the test split, averaged.
  const at::Tensor hits_per_class = at::bincount(z.masked_select(correct), {}, k);
  const at::Tensor present = test_counts > 0;
  const at::Tensor recall = hits_per_class.to(at::kDouble).masked_select(present) /
                            test_counts.to(at::kDouble).masked_select(present);
  r.balanced_accuracy = recall.mean().item<double>();
  r.chance_balanced_accuracy = 1.0 / static_cast<double>(present.sum().item<int64_t>());

  const double log_clip = std::log(kProbClip);
  const at::Tensor picked = lp.gather(1, z.unsqueeze(1)).squeeze(1).clamp_min(log_clip);  // [n]
  r.log_loss = -picked.mean().item<double>();
  const at::Tensor prior = train_counts.to(at::kDouble) / static_cast<double>(std::max<int64_t>(r.n_train, 1));
  const at::Tensor prior_picked = prior.index_select(0, z).clamp_min(kProbClip).log();
  r.prior_log_loss = -prior_picked.mean().item<double>();
  return r;
}

nlohmann::json ProbeReport::to_json() const {
  return nlohmann::json{{"probe", probe},
                        {"n_train", n_train},
                        {"n_test", n_test},
                        {"num_classes", num_classes},
                        {"test_class_counts", test_class_counts},
                        {"accuracy", accuracy},
                        {"accuracy_ci95", {accuracy_interval.low, accuracy_interval.high}},
                        {"n_groups", n_groups},
                        {"folds", folds},
                        {"effective_n", effective_n},
                        {"interval", n_groups > 0 ? "wilson, clustered by subject (effective n = n / design effect)"
                                                  : "wilson, rows independent"},
                        {"chance_accuracy", chance_accuracy},
                        {"beats_chance", beats_chance()},
                        {"balanced_accuracy", balanced_accuracy},
                        {"chance_balanced_accuracy", chance_balanced_accuracy},
                        {"log_loss", log_loss},
                        {"prior_log_loss", prior_log_loss},
                        {"iterations", iterations},
                        {"converged", converged}};
}

}  // namespace editgate::editors
