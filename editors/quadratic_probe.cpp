#include "editors/quadratic_probe.h"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>

namespace editgate::editors {

QuadraticProbe QuadraticProbe::fit(const LabeledData& train, const QuadraticProbeOptions& options) {
  TORCH_CHECK(options.reg >= 0 && options.reg <= 1, "QuadraticProbe: reg must be in [0, 1]");
  const auto opts = at::TensorOptions().dtype(at::kDouble).device(train.x.device());
  const at::Tensor x = train.x.to(opts);  // [n, d]
  const int64_t d = x.size(1);
  const int64_t k = train.num_classes;
  QuadraticProbe q;
  if (options.standardize) {
    q.mean_ = x.mean(0);
    const at::Tensor sd = x.std(0, /*unbiased=*/false);
    q.scale_ = at::where(sd > 0, sd, at::ones_like(sd));
  } else {
    q.mean_ = at::zeros({d}, opts);
    q.scale_ = at::ones({d}, opts);
  }
  const at::Tensor xs = (x - q.mean_) / q.scale_;
  const at::Tensor z = train.z.to(x.device());
  const at::Tensor eye = at::eye(d, opts);
  q.means_ = at::zeros({k, d}, opts);
  q.chol_ = eye.unsqueeze(0).repeat({k, 1, 1});
  q.log_det_ = at::zeros({k}, opts);
  q.log_prior_ = at::full({k}, -std::numeric_limits<double>::infinity(), opts);
  const double n = static_cast<double>(x.size(0));
  for (int64_t c = 0; c < k; ++c) {
    const at::Tensor rows = xs.index_select(0, (z == c).nonzero().flatten());  // [n_c, d]
    const int64_t nc = rows.size(0);
    if (nc < 2) continue;
    const at::Tensor mu = rows.mean(0);
    const at::Tensor centred = rows - mu;
    const at::Tensor cov = (1.0 - options.reg) * at::matmul(centred.t(), centred) / static_cast<double>(nc - 1) +
                           options.reg * eye;
    // A small jitter keeps the factorisation defined when reg = 0 and the class is rank-deficient.
    const auto [chol, info] = at::linalg_cholesky_ex(cov + 1e-10 * eye);
    q.means_[c] = mu;
    q.chol_[c] = chol;
    q.log_det_[c] = 2.0 * chol.diagonal().log().sum();
    q.log_prior_[c] = std::log(static_cast<double>(nc) / n);
  }
  return q;
}

at::Tensor QuadraticProbe::log_proba(const at::Tensor& x) const {
  const at::Tensor xs = (x.to(mean_.options()) - mean_) / scale_;  // [n, d]
  const int64_t k = means_.size(0);
  const int64_t d = means_.size(1);
  std::vector<at::Tensor> cols;
  cols.reserve(static_cast<size_t>(k));
  for (int64_t c = 0; c < k; ++c) {
    const at::Tensor diff = (xs - means_[c]).t();                                     // [d, n]
    const at::Tensor sol = at::linalg_solve_triangular(chol_[c], diff, /*upper=*/false);  // [d, n]
    const at::Tensor maha = sol.square().sum(0);                                       // [n]
    cols.push_back(log_prior_[c] - 0.5 * (log_det_[c] + maha + static_cast<double>(d) * std::log(2.0 * M_PI)));
  }
  const at::Tensor joint = at::stack(cols, 1);  // [n, k]
  return joint - at::logsumexp(joint, 1, /*keepdim=*/true);
}

}  // namespace editgate::editors
