#include "editors/logistic_probe.h"

#include <ATen/ATen.h>

#include <limits>

namespace editgate::editors {
namespace {

// Logits over the training classes [n, c] from standardised features and
// parameters; the binary model's first class has logit 0.
at::Tensor full_logits(const at::Tensor& xs, const at::Tensor& w, const at::Tensor& b, bool binary) {
  const at::Tensor logits = at::addmm(b, xs, w.t());  // [n, m]
  return binary ? at::cat({at::zeros_like(logits), logits}, 1) : logits;
}

}  // namespace

LogisticProbe LogisticProbe::fit(const LabeledData& train, const LogisticProbeOptions& options) {
  TORCH_CHECK(options.c > 0, "LogisticProbe: C must be > 0");
  const auto opts = at::TensorOptions().dtype(at::kDouble).device(train.x.device());
  const at::Tensor x = train.x.to(opts);  // [n, d]
  const int64_t n = x.size(0);
  const int64_t d = x.size(1);

  LogisticProbe probe;
  probe.num_classes_ = train.num_classes;
  const at::Tensor counts = class_counts(train.z, train.num_classes);
  probe.classes_ = (counts > 0).nonzero().flatten();  // [c] on CPU
  const int64_t c = probe.classes_.size(0);
  TORCH_CHECK(c >= 2, "LogisticProbe needs at least 2 classes in the training rows, got ", c);
  probe.binary_ = c == 2;
  const int64_t m = probe.binary_ ? 1 : c;

  if (options.standardize) {
    probe.mean_ = x.mean(0);
    const at::Tensor sd = x.std(0, /*unbiased=*/false);
    probe.scale_ = at::where(sd > 0, sd, at::ones_like(sd));
  } else {
    probe.mean_ = at::zeros({d}, opts);
    probe.scale_ = at::ones({d}, opts);
  }
  const at::Tensor xs = (x - probe.mean_) / probe.scale_;  // [n, d]
  // Labels as indices into the training classes.
  at::Tensor remap = at::full({train.num_classes}, -1, at::kLong);
  remap.index_put_({probe.classes_}, at::arange(c, at::kLong));
  const at::Tensor y = remap.index_select(0, train.z.to(at::kCPU)).to(x.device());  // [n]
  const at::Tensor y_onehot = at::one_hot(y, c).to(opts);                             // [n, c]

  // f = (1/n) Σ loss_i + ‖W‖² / (2 C n): scikit-learn's objective divided by C n.
  const double inv_n = 1.0 / static_cast<double>(n);
  const double l2 = inv_n / options.c;
  const bool binary = probe.binary_;
  const Objective objective = [&](const at::Tensor& theta, at::Tensor& grad) {
    const at::Tensor w = theta.narrow(0, 0, m * d).view({m, d});
    const at::Tensor b = theta.narrow(0, m * d, m);
    const at::Tensor logits = full_logits(xs, w, b, binary);  // [n, c]
    const at::Tensor lse = at::logsumexp(logits, 1);           // [n]
    const double loss = (lse - (logits * y_onehot).sum(1)).sum().item<double>() * inv_n;
    at::Tensor residual = at::softmax(logits, 1) - y_onehot;  // [n, c]
    if (binary) residual = residual.narrow(1, 1, 1);          // [n, 1]
    const at::Tensor gw = at::matmul(residual.t(), xs) * inv_n + w * l2;  // [m, d]
    const at::Tensor gb = residual.sum(0) * inv_n;                        // [m]
    grad = at::cat({gw.flatten(), gb});
    return loss + 0.5 * l2 * w.square().sum().item<double>();
  };
  probe.opt_ = minimize_lbfgs(objective, at::zeros({m * d + m}, opts), options.lbfgs);
  probe.weight_ = probe.opt_.x.narrow(0, 0, m * d).view({m, d}).clone();
  probe.intercept_ = probe.opt_.x.narrow(0, m * d, m).clone();
  return probe;
}

at::Tensor LogisticProbe::log_proba(const at::Tensor& x) const {
  const at::Tensor xs = (x.to(mean_.options()) - mean_) / scale_;
  const at::Tensor lp = at::log_softmax(full_logits(xs, weight_, intercept_, binary_), 1);  // [n, c]
  at::Tensor out = at::full({x.size(0), num_classes_}, -std::numeric_limits<double>::infinity(), lp.options());
  out.index_copy_(1, classes_.to(out.device()), lp);
  return out;
}

at::Tensor LogisticProbe::predict(const at::Tensor& x) const { return log_proba(x).argmax(1); }

at::Tensor LogisticProbe::input_space_weight() const { return weight_ / scale_; }

}  // namespace editgate::editors
