#pragma once
// Oracle LEACE: when the label is known at inference, the least-change eraser
// is the OLS residual of X on one-hot Z, x' = x - Σ_XZ Σ_ZZ⁺ (z - E[Z]) (the
// reference's OracleFitter). More surgical than LEACE (smaller change), but it
// needs z for every row and can increase non-linear leakage. This unit owns the
// oracle fit and application; statistics come from leace_statistics.h.

#include <ATen/core/Tensor.h>

#include <cstdint>

#include "editors/leace_statistics.h"

namespace editgate::editors {

struct OracleOptions {
  // Eigenvalues of Σ_ZZ at or below svd_rtol * λ_max are treated as zero in the
  // pseudo-inverse (one-hot Σ_ZZ always has one exact zero).
  double svd_rtol = 1e-6;
};

struct OracleEraser {
  at::Tensor coef;    // [d, k] float64: Σ_XZ Σ_ZZ⁺
  at::Tensor mean_z;  // [k] float64: class frequencies of the fit data

  /// x [n, d] (any floating dtype), z [n] int64 -> x' [n, d] in x's dtype.
  at::Tensor apply(const at::Tensor& x, const at::Tensor& z) const;
};

OracleEraser fit_oracle(const LeaceStatistics& stats, const OracleOptions& options = {});

}  // namespace editgate::editors
