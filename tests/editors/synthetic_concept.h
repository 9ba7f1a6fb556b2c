#pragma once
// Synthetic concept data for the editors tests: correlated Gaussian features
// in which a k-class concept is encoded linearly (class-dependent means) and/or
// non-linearly (class-dependent variance along a direction, zero mean shift),
// so LEACE's linear guarantee and its limit can both be shown. Deterministic
// for a seed. Plus small helpers shared by the tests.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "editors/labeled_data.h"

namespace editgate::testing {

struct ConceptSpec {
  int64_t n = 2000;
  int64_t d = 16;
  int64_t k = 2;
  double linear = 1.0;     // norm of each class's mean offset (0: no linear encoding)
  double nonlinear = 0.0;  // extra std along a class's own direction: class c gets c * nonlinear
  std::vector<double> class_probs = {};  // empty: uniform
  uint64_t seed = 0;
};

/// X [n, d] float64 and Z [n] int64 as LabeledData (num_classes = k).
editors::LabeledData make_concept(const ConceptSpec& spec);

/// Cov(X, one-hot Z) [d, k] with the 1/(n-1) normalisation, in float64.
at::Tensor cross_covariance(const at::Tensor& x, const at::Tensor& z, int64_t k);

/// Class-conditional means [k, d] (rows of absent classes are NaN).
at::Tensor class_means(const at::Tensor& x, const at::Tensor& z, int64_t k);

/// max |a - b| as double.
double max_diff(const at::Tensor& a, const at::Tensor& b);

}  // namespace editgate::testing
