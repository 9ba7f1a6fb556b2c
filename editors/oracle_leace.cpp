#include "editors/oracle_leace.h"

#include <ATen/ATen.h>

namespace editgate::editors {

at::Tensor OracleEraser::apply(const at::Tensor& x, const at::Tensor& z) const {
  TORCH_CHECK(x.dim() == 2 && x.size(1) == coef.size(0), "oracle eraser of width ", coef.size(0),
              " applied to x of shape ", x.sizes());
  TORCH_CHECK(z.dim() == 1 && z.size(0) == x.size(0), "oracle eraser needs one label per row");
  const auto opts = at::TensorOptions().dtype(at::kDouble).device(x.device());
  const at::Tensor zc = at::one_hot(z.to(x.device()), coef.size(1)).to(opts) - mean_z.to(opts);  // [n, k]
  return (x.to(at::kDouble) - at::matmul(zc, coef.to(opts).t())).to(x.scalar_type());
}

OracleEraser fit_oracle(const LeaceStatistics& stats, const OracleOptions& options) {
  const at::Tensor sigma_zz = stats.sigma_zz();  // [k, k]
  // Pseudo-inverse through the eigendecomposition (Σ_ZZ is symmetric p.s.d.).
  auto [eigenvalues, v] = at::linalg_eigh(sigma_zz);  // ascending
  const double largest = eigenvalues[-1].item<double>();
  const at::Tensor keep = eigenvalues > options.svd_rtol * largest;
  const at::Tensor inv = at::where(keep, eigenvalues.reciprocal(), at::zeros_like(eigenvalues));
  const at::Tensor pinv = at::matmul(v * inv, v.t());  // [k, k]
  return OracleEraser{at::matmul(stats.sigma_xz(), pinv), stats.mean_z().clone()};
}

}  // namespace editgate::editors
