#include "tests/editors/synthetic_concept.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

namespace editgate::testing {

editors::LabeledData make_concept(const ConceptSpec& s) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(s.seed);
  const auto f64 = at::TensorOptions().dtype(at::kDouble);
  std::vector<double> probs = s.class_probs;
  if (probs.empty()) probs.assign(static_cast<size_t>(s.k), 1.0 / static_cast<double>(s.k));
  const at::Tensor z = at::multinomial(at::tensor(probs, f64), s.n, /*replacement=*/true, gen);  // [n]
  // Correlated base features: g A with A = I + 0.5 R / sqrt(d), and unequal scales.
  const at::Tensor mix = at::eye(s.d, f64) + 0.5 * at::randn({s.d, s.d}, gen, f64) / std::sqrt(double(s.d));
  const at::Tensor scales = 0.5 + at::rand({s.d}, gen, f64);
  at::Tensor x = at::matmul(at::randn({s.n, s.d}, gen, f64), mix) * scales;  // [n, d]
  if (s.linear > 0) {
    at::Tensor means = at::randn({s.k, s.d}, gen, f64);
    means = s.linear * means / means.norm(2, 1, true);  // [k, d]
    x = x + means.index_select(0, z);
  }
  if (s.nonlinear > 0) {
    at::Tensor dirs = at::randn({s.k, s.d}, gen, f64);
    dirs = dirs / dirs.norm(2, 1, true);                                   // [k, d]
    const at::Tensor h = at::randn({s.n, 1}, gen, f64);                    // [n, 1] zero-mean
    const at::Tensor amp = s.nonlinear * z.to(at::kDouble).unsqueeze(1);   // [n, 1]: class c gets c * nonlinear
    x = x + amp * h * dirs.index_select(0, z);
  }
  return editors::LabeledData{x, z, s.k};
}

at::Tensor cross_covariance(const at::Tensor& x, const at::Tensor& z, int64_t k) {
  const at::Tensor xd = x.to(at::kDouble);
  const at::Tensor zo = at::one_hot(z, k).to(at::kDouble);
  const at::Tensor xc = xd - xd.mean(0);
  const at::Tensor zc = zo - zo.mean(0);
  return at::matmul(xc.t(), zc) / static_cast<double>(x.size(0) - 1);
}

at::Tensor class_means(const at::Tensor& x, const at::Tensor& z, int64_t k) {
  std::vector<at::Tensor> rows;
  for (int64_t c = 0; c < k; ++c) rows.push_back(x.to(at::kDouble).index_select(0, (z == c).nonzero().flatten()).mean(0));
  return at::stack(rows);
}

double max_diff(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(at::kCPU, at::kDouble) - b.to(at::kCPU, at::kDouble)).abs().max().item<double>();
}

}  // namespace editgate::testing
