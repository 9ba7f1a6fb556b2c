#pragma once
// ROME (Meng et al. 2022, kmeng01/rome): a rank-one update of one layer's MLP
// output projection W_out [d_model, d_mlp] that maps the subject's key k to a
// new value v*:
//   u  = C⁻¹k̄ / ‖C⁻¹k̄‖  (k̄/‖k̄‖ when mom2_adjustment is off),
//   ΔW = (v* − (W k + b)) uᵀ / (uᵀ k),
// where k̄ is the key at the subject's last token averaged over context
// templates, k is the insert key (the bare prompt's key, as in the reference
// code, or k̄), and v* = v₀ + δ from value_optimizer.h. After the update
// W' k + b = v* exactly and ΔW has rank one. Requests are applied one after
// another, each on the weights the previous one left (the reference's
// apply_rome_to_model). This unit owns k̄, u, the update and its bookkeeping;
// the statistics, templates and δ are other units'.

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "editors/edit_hparams.h"
#include "editors/edit_request.h"
#include "editors/value_optimizer.h"
#include "harness/text_model.h"

namespace editgate::editors {

struct RomeUpdate {
  std::string case_id;
  std::string weight_name;  // "blocks.{l}.mlp.W_out"
  at::Tensor key_mean;      // [d_mlp] k̄ over the templates (float64, CPU)
  at::Tensor key_insert;    // [d_mlp] the key ΔW is solved for
  at::Tensor u;             // [d_mlp] unit direction C⁻¹k̄ (or k̄)
  at::Tensor v_star;        // [d_model] target MLP output at the insert key
  at::Tensor residual;      // [d_model] v* − (W k + b) before the update
  at::Tensor delta_w;       // [d_model, d_mlp] float64, CPU: the update that was added
  ValueResult value;
  double key_seconds = 0, value_seconds = 0, update_seconds = 0;
};

/// Precomputes what every request of one layer shares: C⁻¹ (float64, with the
/// hparams' ridge), on the model's device. Undefined when `mom2` is undefined.
at::Tensor rome_inverse_mom2(const at::Tensor& mom2, double ridge);

/// Computes and applies one ROME update per request, in order (each on the
/// weights the previous left). `c_inv` from rome_inverse_mom2 (undefined: no C).
std::vector<RomeUpdate> apply_rome(harness::TextModel& model, const std::vector<EditRequest>& requests,
                                   const RomeHparams& hparams, const std::vector<std::string>& templates,
                                   const at::Tensor& c_inv);

/// The rank-one update itself (exposed for the invariant tests):
/// ΔW = r uᵀ / (uᵀ k) with r = v* − (W k + b). All float64 [d_model, d_mlp].
at::Tensor rome_delta(const at::Tensor& w, const at::Tensor& bias, const at::Tensor& key, const at::Tensor& u,
                      const at::Tensor& v_star);

}  // namespace editgate::editors
