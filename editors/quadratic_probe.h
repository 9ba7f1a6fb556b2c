#pragma once
// QuadraticProbe: quadratic discriminant analysis (one Gaussian per class,
// each with its own covariance) on standardised features. LEACE promises
// linear guarding only; this probe shows what a non-linear reader still finds
// (class-dependent variances survive LEACE). This unit owns the QDA fit and
// prediction; scoring is probe_metrics.h's job.

#include <ATen/core/Tensor.h>

#include <cstdint>

#include "editors/labeled_data.h"

namespace editgate::editors {

struct QuadraticProbeOptions {
  double reg = 0.01;        // Σ_c <- (1 - reg) Σ_c + reg I, scikit-learn's reg_param (on standardised features)
  bool standardize = true;  // z-score with the training rows' mean and population std
};

class QuadraticProbe {
 public:
  /// Fits on `train`; classes with fewer than 2 training rows get probability 0.
  static QuadraticProbe fit(const LabeledData& train, const QuadraticProbeOptions& options = {});

  /// Posterior log-probabilities [n, k] float64; -inf for classes not fitted.
  at::Tensor log_proba(const at::Tensor& x) const;
  at::Tensor predict(const at::Tensor& x) const { return log_proba(x).argmax(1); }

 private:
  at::Tensor mean_;        // [d] standardisation mean
  at::Tensor scale_;       // [d] standardisation std
  at::Tensor means_;       // [k, d] class means (standardised units)
  at::Tensor chol_;        // [k, d, d] Cholesky factors of the class covariances
  at::Tensor log_det_;     // [k] log det of the class covariances
  at::Tensor log_prior_;   // [k] log class frequency; -inf for classes not fitted
};

}  // namespace editgate::editors
