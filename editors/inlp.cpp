#include "editors/inlp.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

namespace editgate::editors {

InlpResult fit_inlp(const LabeledData& train, const LabeledData& dev, const InlpOptions& options) {
  const auto opts = at::TensorOptions().dtype(at::kDouble).device(train.x.device());
  const int64_t d = train.dim();
  const at::Tensor mean = train.x.to(opts).mean(0);  // [d]
  at::Tensor basis = at::zeros({d, 0}, opts);        // [d, r] orthonormal columns
  InlpResult result;
  const at::Tensor dev_counts = class_counts(dev.z, dev.num_classes);
  result.dev_chance = static_cast<double>(dev_counts.max().item<int64_t>()) / static_cast<double>(dev.size());

  const auto project = [&](const LabeledData& data) {
    Eraser e{mean, basis, basis.t()};
    return LabeledData{e.apply(data.x.to(opts)), data.z, data.num_classes, data.groups};
  };
  for (int64_t it = 0; it < options.max_iterations && basis.size(1) < d; ++it) {
    const LabeledData tr = project(train);
    const LogisticProbe probe = LogisticProbe::fit(tr, options.probe);
    const double acc =
        (probe.predict(project(dev).x).to(at::kCPU) == dev.z.to(at::kCPU)).to(at::kDouble).mean().item<double>();
    result.dev_accuracy.push_back(acc);
    if (acc <= result.dev_chance + options.margin) {
      result.reached_chance = true;
      break;
    }
    // The probe's directions, restricted to the current nullspace, orthonormalised against the basis.
    at::Tensor w = probe.input_space_weight().t();                  // [d, m]
    w = w - at::matmul(basis, at::matmul(basis.t(), w));            // remove what is already gone
    auto [q, r] = at::linalg_qr(w);                                  // q [d, m]
    const at::Tensor diag = r.diagonal().abs();
    const at::Tensor keep = (diag > 1e-10 * std::max(1.0, diag.max().item<double>())).nonzero().flatten();
    if (keep.size(0) == 0) break;                                   // the probe found nothing new
    at::Tensor added = q.index_select(1, keep);
    added = added - at::matmul(basis, at::matmul(basis.t(), added)); // re-orthogonalise (rounding)
    added = std::get<0>(at::linalg_qr(added));
    basis = at::cat({basis, added}, 1);
  }
  result.eraser = Eraser{mean, basis.contiguous(), basis.t().contiguous()};
  return result;
}

nlohmann::json InlpResult::to_json() const {
  return nlohmann::json{{"rank_removed", rank_removed()},
                        {"dev_accuracy", dev_accuracy},
                        {"dev_chance", dev_chance},
                        {"reached_chance", reached_chance}};
}

}  // namespace editgate::editors
