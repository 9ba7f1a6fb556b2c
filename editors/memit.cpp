#include "editors/memit.h"

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

// ΔW [d_model, d_mlp] for one layer; `k` [d_mlp, n], `res` [d_model, n], both float64.
at::Tensor solve_layer(const at::Tensor& k, const at::Tensor& res, const at::Tensor& c, const MemitHparams& h,
                       MemitSolver solver, AlphaEditState* state, int64_t layer) {
  const int64_t d = k.size(0);
  const auto eye = at::eye(d, k.options());
  if (solver == MemitSolver::kMemit) {
    const auto cov = c.defined() ? c : eye;
    const auto adj_k = at::linalg_solve(h.mom2_update_weight * cov + k.mm(k.t()), k);  // [d_mlp, n]
    return res.mm(adj_k.t());
  }
  const auto& p = state->projector.at(layer);
  auto& cache = state->cache_c[layer];
  if (!cache.defined()) cache = at::zeros({d, d}, k.options());
  // The AlphaEdit reference: solve(P (KKᵀ + K_pK_pᵀ) + αI, P K Resᵀ)ᵀ.
  const auto lhs = p.mm(k.mm(k.t()) + cache) + h.l2 * eye;
  const auto upd = at::linalg_solve(lhs, p.mm(k).mm(res.t()));  // [d_mlp, d_model]
  return upd.t();
}

}  // namespace

at::Tensor alphaedit_projector(const at::Tensor& mom2, double threshold, int64_t* null_dims) {
  const auto c = mom2.to(at::kDouble);
  const auto [evals, evecs] = at::linalg_eigh(c);  // ascending
  const auto small = (evals < threshold).nonzero().squeeze(1);
  if (null_dims != nullptr) *null_dims = small.numel();
  const auto u = evecs.index_select(1, small);  // [d_mlp, n_small]
  return u.mm(u.t());
}

MemitResult apply_memit(harness::TextModel& tm, const std::vector<EditRequest>& requests, const MemitHparams& h,
                        const std::vector<std::string>& templates, const std::map<int64_t, at::Tensor>& mom2,
                        MemitSolver solver, AlphaEditState* state) {
  TORCH_CHECK(!requests.empty(), "apply_memit: no requests");
  TORCH_CHECK(solver == MemitSolver::kMemit || state != nullptr, "apply_memit: AlphaEdit needs a state");
  auto& model = tm.model();
  const auto groups = context_template_groups(h.context);  // the keys' grouping, as the reference's compute_ks
  const int64_t z_layer = h.layers.back();
  const harness::HookPoint z_point{z_layer, harness::HookSite::kResidPost};
  MemitResult out;

  std::optional<harness::NvtxRange> range;  // one NVTX range per phase, for Nsight
  range.emplace("memit z");
  auto t0 = std::chrono::steady_clock::now();
  out.values = optimize_values(tm, requests, templates, z_point, h.value);
  out.value_seconds = seconds_since(t0);
  std::vector<at::Tensor> zs;
  for (const auto& v : out.values) zs.push_back(v.v0.to(at::kDouble) + v.delta.to(at::kDouble));
  const auto z = at::stack(zs, 0).to(model.device());  // [n, d_model]

  c10::NoGradGuard no_grad;
  const auto n_layers = static_cast<int64_t>(h.layers.size());
  for (int64_t j = 0; j < n_layers; ++j) {
    const int64_t layer = h.layers[static_cast<size_t>(j)];
    MemitLayerUpdate up;
    up.layer = layer;
    up.weight_name = fmt::format("blocks.{}.mlp.W_out", layer);
    range.emplace(fmt::format("memit keys layer {}", layer).c_str());
    t0 = std::chrono::steady_clock::now();
    const auto k = mean_subject_keys(tm, requests, templates, layer, groups).to(at::kDouble).t().contiguous();  // [d_mlp, n]
    const auto cur = bare_prompt_activations(tm, requests, z_point).to(at::kDouble);                   // [n, d_model]
    out.key_seconds += seconds_since(t0);
    range.emplace(fmt::format("memit solve layer {}", layer).c_str());
    t0 = std::chrono::steady_clock::now();
    auto res = (z - cur).t() / static_cast<double>(n_layers - j);  // [d_model, n], in the residual stream
    if (model.has_post_mlp_norm()) {
      // W_out's output passes a norm before the residual (Gemma): write at W_out's output
      // what the norm turns into `res`, to first order, with a damped inverse of its
      // gain g: res·g / (g² + λ²), λ = 0.1 × the median |g|. Where g is (near) zero
      // (Gemma 3 270M has 1 + w = 0 exactly in some elements, and 18 of 640 under 0.05
      // at layer 4) little written there reaches the residual; 1/g wrote inf there, and
      // a cut-off at 1e-6 × max g still let layer 4's update grow to |ΔW| 82 (others 2-7).
      const auto w_out = bare_prompt_activations(tm, requests, {layer, harness::HookSite::kMlpWOut});  // [n, d_model]
      const auto gain = model.mlp_out_gain(layer, w_out).to(at::kDouble);                          // [n, d_model]
      const auto damping = 0.1 * std::get<0>(gain.abs().median(1, /*keepdim=*/true));                 // [n, 1]
      res = res * (gain / (gain.pow(2) + damping.pow(2))).t();
    }
    up.residual_norm = (z - cur).norm(2, {1}).mean().item<double>();
    const auto it = mom2.find(layer);
    const auto c = it == mom2.end() || !it->second.defined() ? at::Tensor() : it->second.to(at::kDouble);
    if (solver == MemitSolver::kAlphaEdit && !state->projector.count(layer)) {
      TORCH_CHECK(c.defined(), "AlphaEdit needs the second moment of layer ", layer, " for its projector");
      int64_t dims = 0;
      state->projector[layer] = alphaedit_projector(c, h.nullspace_threshold, &dims);
      state->null_dims[layer] = dims;
    }
    // MEMIT's λC term takes the ridge (none by default, as the reference); AlphaEdit's projector reads C itself.
    const auto c_solve = c.defined() && solver == MemitSolver::kMemit ? mom2_with_ridge(c, h.mom2.ridge) : c;
    const auto delta = solve_layer(k, res, c_solve, h, solver, state, layer);  // [d_model, d_mlp]
    auto w = model.weight(up.weight_name);
    w.add_(delta.to(w.scalar_type()));
    up.delta_w = delta.cpu();
    up.seconds = seconds_since(t0);
    out.solve_seconds += up.seconds;
    out.layers.push_back(std::move(up));
  }
  range.reset();
  if (solver == MemitSolver::kAlphaEdit) {
    // As the reference does: the keys of this round, recomputed with every layer
    // updated, join K_p for later rounds.
    for (const int64_t layer : h.layers) {
      const auto k = mean_subject_keys(tm, requests, templates, layer, groups).to(at::kDouble).t();  // [d_mlp, n]
      state->cache_c[layer] = state->cache_c[layer] + k.mm(k.t());
    }
  }
  const auto final_h = bare_prompt_activations(tm, requests, z_point).to(at::kDouble);
  out.final_residual_norm = (z - final_h).norm(2, {1}).mean().item<double>();
  return out;
}

}  // namespace editgate::editors
