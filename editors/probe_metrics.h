#pragma once
// Held-out probe scores and their chance levels: accuracy with its Wilson 95 %
// interval and n (rows of one subject are not independent trials, so when the
// test rows carry group ids the interval uses the design effect of that
// clustering instead of pretending every row is a fresh sample), chance = the majority-class rate of the test split (the
// guarantee of linear erasure is "no better than a constant predictor", so not
// 1/k under imbalance), balanced accuracy (chance 1/k over the classes present
// in the test split), and log-loss against the cross-entropy of the training
// prior. This unit owns the metrics; fitting the probes is logistic_probe.h's
// and quadratic_probe.h's job.

#include <ATen/core/Tensor.h>
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace editgate::editors {

struct Interval {
  double low = 0.0;
  double high = 0.0;
};

inline constexpr double kZ95 = 1.959963984540054;

/// Wilson score interval for `successes` out of `n` (z = 1.96: 95 %).
Interval wilson_interval(int64_t successes, int64_t n, double z = kZ95);
/// The same for a rate `p` over an effective sample size `n` (not necessarily whole).
Interval wilson_interval_of_rate(double p, double n, double z = kZ95);

/// Accuracy of `correct` ([n] bool) clustered by `groups` ([n] int64): the
/// effective sample size n / deff, where deff is the ratio of the
/// cluster-robust variance of the hit rate (groups as the independent units)
/// to the binomial one, kept within [groups, n]. With every hit rate 0 or 1
/// the variance says nothing, and the number of groups is used.
double clustered_effective_n(const at::Tensor& correct, const at::Tensor& groups);

struct ProbeReport {
  std::string probe;                   // "logistic" | "quadratic"
  int64_t n_train = 0;
  int64_t n_test = 0;
  int64_t num_classes = 0;             // k
  std::vector<int64_t> test_class_counts;  // [k]
  double accuracy = 0.0;
  Interval accuracy_interval;          // Wilson 95 % over effective_n
  int64_t n_groups = 0;                // subjects among the test rows; 0 when rows are independent
  double effective_n = 0.0;            // n_test, or n_test / design effect when clustered
  double chance_accuracy = 0.0;        // majority-class rate of the test split
  double balanced_accuracy = 0.0;      // mean recall over classes present in the test split
  double chance_balanced_accuracy = 0.0;  // 1 / (classes present in the test split)
  double log_loss = 0.0;               // mean test cross-entropy (probabilities clipped at 1e-15)
  double prior_log_loss = 0.0;         // the same for the training prior: the constant predictor
  int64_t folds = 0;                   // cross-validation folds; 0: one train/test split
  int64_t iterations = 0;              // optimiser iterations (0 for closed-form probes; the most of any fold)
  bool converged = true;

  /// The interval's lower bound is above the majority rate: the probe beats a constant predictor.
  bool beats_chance() const { return accuracy_interval.low > chance_accuracy; }
  nlohmann::json to_json() const;
};

/// Scores predictions: `log_proba` [n, k] (rows may hold -inf), `z_test` [n]
/// int64, `train_counts` [k] int64 (for the prior), `groups` [n] int64 or
/// undefined (rows independent). Probe-specific fields (probe, iterations,
/// converged) are left for the caller.
ProbeReport score_predictions(const at::Tensor& log_proba, const at::Tensor& z_test, const at::Tensor& train_counts,
                              const at::Tensor& groups = {});

}  // namespace editgate::editors
