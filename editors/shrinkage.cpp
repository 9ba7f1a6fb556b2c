#include "editors/shrinkage.h"

#include <ATen/ATen.h>

#include <limits>

namespace editgate::editors {

ShrunkCovariance optimal_linear_shrinkage(const at::Tensor& s_n, int64_t n) {
  TORCH_CHECK(s_n.dim() == 2 && s_n.size(0) == s_n.size(1), "shrinkage needs a square matrix");
  const int64_t p = s_n.size(0);
  const double eps = s_n.scalar_type() == at::kDouble ? std::numeric_limits<double>::epsilon()
                                                      : std::numeric_limits<float>::epsilon();
  const double trace_s = s_n.trace().item<double>();
  // sigma0 = (tr(S)/p) I: its squared Frobenius norm is tr(S)^2 / p and tr(S sigma0) = tr(S)^2 / p.
  const double sigma0_norm_sq = trace_s * trace_s / static_cast<double>(p);
  const double s_norm_sq = s_n.square().sum().item<double>();
  const double prod_trace = trace_s * trace_s / static_cast<double>(p);
  const double top = trace_s * trace_s * sigma0_norm_sq / static_cast<double>(n);
  const double bottom = s_norm_sq * sigma0_norm_sq - prod_trace * prod_trace;
  const double alpha = 1.0 - (top + eps) / (bottom + eps);
  const double beta = (1.0 - alpha) * (prod_trace + eps) / (sigma0_norm_sq + eps);
  at::Tensor sigma = alpha * s_n + at::eye(p, s_n.options()) * (beta * trace_s / static_cast<double>(p));
  return ShrunkCovariance{sigma, alpha, beta};
}

}  // namespace editgate::editors
