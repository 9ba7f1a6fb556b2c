#pragma once
// A small deterministic L-BFGS minimiser over one flat float64 parameter
// vector, for smooth convex objectives with analytic gradients (the probes'
// regularised log-loss). No autograd, no randomness: the same inputs give the
// same iterates. Two-loop recursion with m pairs, Armijo backtracking, and
// scipy's stopping rules (max |gradient| <= gtol, or relative decrease <= ftol).
// This unit owns the iteration only; objectives belong to their callers.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>

namespace editgate::editors {

struct LbfgsOptions {
  int64_t max_iter = 1000;
  int64_t history = 10;   // stored (s, y) pairs, scipy's and scikit-learn's m
  double gtol = 1e-7;     // stop when max |g| <= gtol
  double ftol = 1e-13;    // stop when (f_old - f_new) <= ftol * max(|f_old|, |f_new|, 1)
};

struct LbfgsResult {
  at::Tensor x;              // [p] the last iterate
  double f = 0.0;            // objective at x
  double grad_max = 0.0;     // max |gradient| at x
  int64_t iterations = 0;
  int64_t evaluations = 0;
  bool converged = false;    // a stopping rule fired before max_iter or a line-search failure
};

/// Objective: returns f(x) and writes the gradient [p] into `grad`.
using Objective = std::function<double(const at::Tensor& x, at::Tensor& grad)>;

LbfgsResult minimize_lbfgs(const Objective& objective, const at::Tensor& x0, const LbfgsOptions& options = {});

}  // namespace editgate::editors
