#include "editors/leace_statistics.h"

#include <ATen/ATen.h>

namespace editgate::editors {

LeaceStatistics::LeaceStatistics(int64_t dim, int64_t num_classes, at::Device device)
    : LeaceStatistics(dim, num_classes, device, Moments::kAll) {}

LeaceStatistics::LeaceStatistics(int64_t dim, int64_t num_classes, at::Device device, Moments moments)
    : dim_(dim), num_classes_(num_classes), device_(device) {
  TORCH_CHECK(dim > 0 && num_classes > 0, "LeaceStatistics needs d > 0 and k > 0, got d=", dim, " k=", num_classes);
  const auto opts = at::TensorOptions().dtype(at::kDouble).device(device);
  mean_x_ = at::zeros({dim}, opts);
  mean_z_ = at::zeros({num_classes}, opts);
  if (moments == Moments::kAll) m2_xx_ = at::zeros({dim, dim}, opts);
  m2_xz_ = at::zeros({dim, num_classes}, opts);
  m2_zz_ = at::zeros({num_classes, num_classes}, opts);
}

void LeaceStatistics::update(const at::Tensor& x, const at::Tensor& z) {
  TORCH_CHECK(x.dim() == 2 && x.size(1) == dim_, "LeaceStatistics::update: x must be [b, ", dim_, "]");
  TORCH_CHECK(z.dim() == 1 && z.size(0) == x.size(0), "LeaceStatistics::update: z must be [", x.size(0), "]");
  const int64_t b = x.size(0);
  if (b == 0) return;
  const at::Tensor xb = x.to(device_, at::kDouble);  // [b, d]
  const at::Tensor zl = z.to(device_, at::kLong);
  TORCH_CHECK(zl.min().item<int64_t>() >= 0 && zl.max().item<int64_t>() < num_classes_,
              "LeaceStatistics::update: labels outside [0, ", num_classes_, ")");
  const at::Tensor zb = at::one_hot(zl, num_classes_).to(at::kDouble);  // [b, k]

  // The batch's own statistics, then the pairwise combination with what we have.
  const at::Tensor bmean_x = xb.mean(0);  // [d]
  const at::Tensor bmean_z = zb.mean(0);  // [k]
  const at::Tensor xc = xb - bmean_x;     // [b, d]
  const at::Tensor zc = zb - bmean_z;     // [b, k]
  add(b, bmean_x, bmean_z, m2_xx_.defined() ? at::matmul(xc.t(), xc) : at::Tensor(), at::matmul(xc.t(), zc),
      at::matmul(zc.t(), zc));
}

void LeaceStatistics::merge(const LeaceStatistics& other) {
  TORCH_CHECK(other.dim_ == dim_ && other.num_classes_ == num_classes_,
              "LeaceStatistics::merge: shapes differ (d ", dim_, " vs ", other.dim_, ", k ", num_classes_, " vs ",
              other.num_classes_, ")");
  TORCH_CHECK(other.m2_xx_.defined() == m2_xx_.defined(), "LeaceStatistics::merge: one keeps Σ_XX, the other not");
  const auto here = [&](const at::Tensor& t) { return t.defined() ? t.to(device_) : t; };
  add(other.n_, here(other.mean_x_), here(other.mean_z_), here(other.m2_xx_), here(other.m2_xz_),
      here(other.m2_zz_));
}

void LeaceStatistics::add(int64_t nb, const at::Tensor& mean_x, const at::Tensor& mean_z, const at::Tensor& m2_xx,
                          const at::Tensor& m2_xz, const at::Tensor& m2_zz) {
  if (nb == 0) return;
  const int64_t n = n_ + nb;
  // Chan et al.: M2 = M2_a + M2_b + δ δᵀ n_a n_b / n, with δ the difference of the means.
  const double w = static_cast<double>(n_) * static_cast<double>(nb) / static_cast<double>(n);
  const at::Tensor dx = mean_x - mean_x_;  // [d]
  const at::Tensor dz = mean_z - mean_z_;  // [k]
  if (m2_xx_.defined()) m2_xx_ += m2_xx + w * at::outer(dx, dx);
  m2_xz_ += m2_xz + w * at::outer(dx, dz);
  m2_zz_ += m2_zz + w * at::outer(dz, dz);
  const double f = static_cast<double>(nb) / static_cast<double>(n);
  mean_x_ += f * dx;
  mean_z_ += f * dz;
  n_ = n;
}

at::Tensor LeaceStatistics::class_counts() const {
  // Frequencies times n are integers up to rounding.
  return (mean_z_ * static_cast<double>(n_)).round().to(at::kCPU, at::kLong);
}

ShrunkCovariance LeaceStatistics::sigma_xx(bool shrinkage) const {
  TORCH_CHECK(n_ > 1, "Σ_XX needs at least 2 samples, have ", n_);
  TORCH_CHECK(m2_xx_.defined(), "Σ_XX was not kept (Moments::kCrossOnly)");
  const at::Tensor s_hat = (m2_xx_ + m2_xx_.t()) / 2.0;  // rounding can leave it slightly asymmetric
  if (shrinkage) return optimal_linear_shrinkage(s_hat / static_cast<double>(n_), n_);
  return ShrunkCovariance{s_hat / static_cast<double>(n_ - 1), 1.0, 0.0};
}

at::Tensor LeaceStatistics::sigma_xz() const {
  TORCH_CHECK(n_ > 1, "Σ_XZ needs at least 2 samples, have ", n_);
  return m2_xz_ / static_cast<double>(n_ - 1);
}

at::Tensor LeaceStatistics::sigma_zz() const {
  TORCH_CHECK(n_ > 1, "Σ_ZZ needs at least 2 samples, have ", n_);
  return (m2_zz_ + m2_zz_.t()) / (2.0 * static_cast<double>(n_ - 1));
}

}  // namespace editgate::editors
