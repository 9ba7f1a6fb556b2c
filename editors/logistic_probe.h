#pragma once
// LogisticProbe: multinomial logistic regression with an L2 penalty on
// standardised features, the linear probe of the probe-recovery suite. The
// objective is scikit-learn's LogisticRegression(C) with lbfgs: C Σ_i loss_i +
// ½‖W‖² (intercept not penalised), binomial with one weight vector for two
// classes and multinomial otherwise, on features z-scored with the training
// rows' mean and population std. Fitted by the deterministic L-BFGS of lbfgs.h
// in float64 on the data's device. This unit owns fitting and prediction;
// held-out scoring is probe_metrics.h's.

#include <ATen/core/Tensor.h>

#include <cstdint>

#include "editors/labeled_data.h"
#include "editors/lbfgs.h"

namespace editgate::editors {

struct LogisticProbeOptions {
  double c = 1.0;          // inverse regularisation strength (scikit-learn's C)
  bool standardize = true;  // z-score features with the training rows' statistics
  LbfgsOptions lbfgs;       // max_iter, history, gtol (on the objective divided by n), ftol
};

class LogisticProbe {
 public:
  /// Fits on `train` (at least 2 classes present). Classes of num_classes that
  /// are absent from `train` get probability 0.
  static LogisticProbe fit(const LabeledData& train, const LogisticProbeOptions& options = {});

  /// Log-probabilities [n, k] float64 for x [n, d]; -inf for classes unseen in training.
  at::Tensor log_proba(const at::Tensor& x) const;
  /// Most probable class [n] int64.
  at::Tensor predict(const at::Tensor& x) const;

  /// Logit directions in the units of x: [m, d], m = 1 for a binary probe
  /// (the logit of the second class) and the number of training classes otherwise.
  at::Tensor input_space_weight() const;

  int64_t num_classes() const { return num_classes_; }
  const LbfgsResult& optimisation() const { return opt_; }

 private:
  at::Tensor mean_;       // [d] feature means of the training rows (0 without standardisation)
  at::Tensor scale_;      // [d] feature std of the training rows (1 where it is 0)
  at::Tensor weight_;     // [m, d] in standardised units
  at::Tensor intercept_;  // [m]
  at::Tensor classes_;    // [c] int64: the training classes, ascending
  int64_t num_classes_ = 0;
  bool binary_ = false;   // c == 2: one logit, the first class is the reference
  LbfgsResult opt_;
};

}  // namespace editgate::editors
