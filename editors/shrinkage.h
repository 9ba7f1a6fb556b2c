#pragma once
// Linear shrinkage of a sample covariance toward a scaled identity, the
// estimator concept-erasure uses for Σ_XX (optimal_linear_shrinkage in its
// shrinkage.py; Ledoit-Wolf style, from random-matrix theory, arXiv:1308.2608).
// This unit owns only the formula; which covariance to shrink is leace.cpp's call.

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace editgate::editors {

struct ShrunkCovariance {
  at::Tensor sigma;    // [p, p] alpha * S_n + beta * (tr(S_n) / p) I
  double alpha = 1.0;  // weight kept on the sample covariance
  double beta = 0.0;   // weight on the isotropic target
};

/// Shrinks `s_n` ([p, p], the covariance normalised by n, not n - 1) estimated
/// from `n` samples, with the same epsilon terms as the reference.
ShrunkCovariance optimal_linear_shrinkage(const at::Tensor& s_n, int64_t n);

}  // namespace editgate::editors
