#include "editors/rome.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <fmt/format.h>

#include <chrono>
#include <optional>

#include "editors/second_moment.h"
#include "editors/subject_activations.h"
#include "harness/gpu_timing.h"

namespace editgate::editors {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

RomeUpdate edit_one(harness::TextModel& tm, const EditRequest& r, const RomeHparams& h,
                    const std::vector<std::string>& templates, const at::Tensor& c_inv) {
  auto& model = tm.model();
  RomeUpdate up;
  up.case_id = r.case_id;
  up.weight_name = fmt::format("blocks.{}.mlp.W_out", h.layer);
  const std::vector<EditRequest> one = {r};

  std::optional<harness::NvtxRange> range;  // one NVTX range per phase, for Nsight
  range.emplace("rome k*");
  auto t0 = std::chrono::steady_clock::now();
  const auto k_mean = mean_subject_keys(tm, one, templates, h.layer)[0].to(at::kDouble);  // [d_mlp]
  const auto k_prompt = bare_prompt_activations(tm, one, {h.layer, harness::HookSite::kMlpPost})[0].to(at::kDouble);
  // v₀ and v* live at W_out's own output (hook_w_out), as the reference hooks the MLP
  // module's output: on Gemma a norm follows it before hook_mlp_out, and the update
  // below maps k* to v* through W_out alone.
  const harness::HookPoint value_point{h.layer, harness::HookSite::kMlpWOut};
  const auto out_prompt = bare_prompt_activations(tm, one, value_point)[0].to(at::kDouble);
  auto u = c_inv.defined() ? at::mv(c_inv, k_mean) : k_mean.clone();
  u = u / u.norm();
  up.key_seconds = seconds_since(t0);

  range.emplace("rome v*");
  t0 = std::chrono::steady_clock::now();
  up.value = optimize_values(tm, one, templates, value_point, h.value).front();
  up.value_seconds = seconds_since(t0);

  range.emplace("rome update");
  t0 = std::chrono::steady_clock::now();
  c10::NoGradGuard no_grad;
  auto w = model.weight(up.weight_name);  // [d_model, d_mlp] view of the parameter
  const auto w64 = w.to(at::kDouble);
  // The bias (GPT-2 has one, Llama does not) from the bare prompt: b = out − W k.
  const auto bias = out_prompt - at::mv(w64, k_prompt);
  const auto key = h.insert_key == "mean" ? k_mean : k_prompt;
  const auto v_star = up.value.v0.to(at::kDouble).to(w.device()) + up.value.delta.to(at::kDouble).to(w.device());
  const auto delta_w = rome_delta(w64, bias, key, u, v_star);
  w.add_(delta_w.to(w.scalar_type()));
  up.key_mean = k_mean.cpu();
  up.key_insert = key.cpu();
  up.u = u.cpu();
  up.v_star = v_star.cpu();
  up.residual = (v_star - at::mv(w64, key) - bias).cpu();
  up.delta_w = delta_w.cpu();
  up.update_seconds = seconds_since(t0);
  return up;
}

}  // namespace

at::Tensor rome_inverse_mom2(const at::Tensor& mom2, double ridge) {
  if (!mom2.defined()) return {};
  const auto [inv, info] = at::linalg_inv_ex(mom2_with_ridge(mom2, ridge));
  TORCH_CHECK(info.item<int64_t>() == 0, "ROME: the second moment C is singular (", info.item<int64_t>(),
              "); set mom2_ridge in the hyperparameters or collect statistics over more tokens");
  return inv;
}

at::Tensor rome_delta(const at::Tensor& w, const at::Tensor& bias, const at::Tensor& key, const at::Tensor& u,
                      const at::Tensor& v_star) {
  const auto r = v_star - at::mv(w, key) - bias;  // [d_model]
  const auto denom = at::dot(u, key);
  TORCH_CHECK(std::abs(denom.item<double>()) > 0, "ROME: uᵀk = 0, the update is undefined");
  return at::outer(r, u) / denom;  // [d_model, d_mlp]
}

std::vector<RomeUpdate> apply_rome(harness::TextModel& tm, const std::vector<EditRequest>& requests,
                                   const RomeHparams& hparams, const std::vector<std::string>& templates,
                                   const at::Tensor& c_inv) {
  const auto& cfg = tm.model().config();
  TORCH_CHECK(hparams.layer >= 0 && hparams.layer < cfg.n_layers, "ROME: layer ", hparams.layer,
              " out of range for a model with ", cfg.n_layers, " layers");
  std::vector<RomeUpdate> out;
  out.reserve(requests.size());
  for (const auto& r : requests) out.push_back(edit_one(tm, r, hparams, templates, c_inv));
  return out;
}

}  // namespace editgate::editors
