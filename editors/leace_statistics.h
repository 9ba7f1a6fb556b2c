#pragma once
// LeaceStatistics: the sufficient statistics of (X, Z) that LEACE, orth and
// oracle LEACE need, accumulated in float64 by streaming batches: the count,
// running means and centred co-moments. Batches are combined with the pairwise
// update of Chan et al. (exact, not an approximation), so feeding data in any
// batches, or merging statistics of shards, gives the one-batch fit to rounding.
// This unit owns accumulation and the covariance estimates; turning them into an
// eraser is leace.h's and oracle_leace.h's job.

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>

#include "editors/shrinkage.h"

namespace editgate::editors {

// Which co-moments to keep. kCrossOnly skips Σ_XX, the O(b d²) part of every
// update, for callers that only measure Cov(X, Z) (erase's after-erasure check).
enum class Moments { kAll, kCrossOnly };

class LeaceStatistics {
 public:
  /// Empty statistics for `dim` features and `num_classes` classes, kept on `device`.
  LeaceStatistics(int64_t dim, int64_t num_classes, at::Device device = at::kCPU);
  LeaceStatistics(int64_t dim, int64_t num_classes, at::Device device, Moments moments);

  /// Adds a batch: `x` [b, d] of any floating dtype, `z` [b] int64 labels in
  /// [0, k). Both are moved to device() and promoted to float64 first. An empty
  /// batch is a no-op. Label range and shape are checked with TORCH_CHECK:
  /// callers validate user input first (labeled_data.h).
  void update(const at::Tensor& x, const at::Tensor& z);

  /// Adds the statistics of other data (same d, k, moments): afterwards *this equals
  /// statistics accumulated over both data sets.
  void merge(const LeaceStatistics& other);

  int64_t count() const { return n_; }
  int64_t dim() const { return dim_; }
  int64_t num_classes() const { return num_classes_; }
  at::Device device() const { return device_; }

  const at::Tensor& mean_x() const { return mean_x_; }  // [d] float64
  const at::Tensor& mean_z() const { return mean_z_; }  // [k] float64: class frequencies
  /// Samples per class, [k] int64 on CPU.
  at::Tensor class_counts() const;

  /// Σ_XX [d, d]: the symmetrised co-moment over n - 1 (Bessel), or, with
  /// `shrinkage`, the reference's linear shrinkage of it over n. Not kept under
  /// Moments::kCrossOnly (c10::Error).
  ShrunkCovariance sigma_xx(bool shrinkage) const;
  /// Σ_XZ [d, k] = co-moment / (n - 1).
  at::Tensor sigma_xz() const;
  /// Σ_ZZ [k, k] = co-moment / (n - 1) (singular for one-hot Z: rows sum to zero).
  at::Tensor sigma_zz() const;

 private:
  // Combines in the co-moments of `nb` samples with the given means.
  void add(int64_t nb, const at::Tensor& mean_x, const at::Tensor& mean_z, const at::Tensor& m2_xx,
           const at::Tensor& m2_xz, const at::Tensor& m2_zz);

  int64_t dim_;
  int64_t num_classes_;
  at::Device device_;
  int64_t n_ = 0;       // samples seen
  at::Tensor mean_x_;   // [d] float64
  at::Tensor mean_z_;   // [k] float64
  at::Tensor m2_xx_;    // [d, d] Σ (x - mean_x)(x - mean_x)ᵀ; undefined under Moments::kCrossOnly
  at::Tensor m2_xz_;    // [d, k] Σ (x - mean_x)(z - mean_z)ᵀ
  at::Tensor m2_zz_;    // [k, k] Σ (z - mean_z)(z - mean_z)ᵀ
};

}  // namespace editgate::editors
