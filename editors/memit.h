#pragma once
// MEMIT (Meng et al. 2023, kmeng01/memit) and AlphaEdit (Fang et al. 2025):
// many edits at once, spread over a range of layers R = [l₁ < … < l_L].
//   1. z_i = h_i + δ_i: the residual stream after layer l_L at each subject's
//      last token, δ_i from value_optimizer.h (all requests batched).
//   2. For each layer l = R[j] in ascending order, with the updates of the
//      earlier layers already applied: K [d_mlp, n] the keys averaged within
//      each context-template group and then over the groups (the reference's
//      compute_ks; hparams.context gives the groups), Res = Z − H
//      (recomputed), and
//        MEMIT:     ΔW = (Res/(L−j)) Kᵀ (λC + KKᵀ)⁻¹                (float64 solve; C plus mom2_ridge)
//        AlphaEdit: ΔW = (Res/(L−j)) Kᵀ P (K_pK_pᵀP + KKᵀP + αI)⁻¹  (P: null space of C)
//      where K_p accumulates the keys of earlier AlphaEdit rounds (sequential editing).
// Since ΔW = ΔW·P for AlphaEdit, keys in C's principal subspace see no change.
// This unit owns the spread and the solves; z, keys and statistics are the
// other units'.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "editors/edit_hparams.h"
#include "editors/edit_request.h"
#include "editors/value_optimizer.h"
#include "harness/text_model.h"

namespace editgate::editors {

enum class MemitSolver { kMemit, kAlphaEdit };

/// AlphaEdit's state across rounds: the projector per layer and K_pK_pᵀ of the
/// edits applied so far. Start a fresh one for independent edits (EasyEdit #613:
/// a cache that leaks across runs silently changes results).
struct AlphaEditState {
  std::map<int64_t, at::Tensor> projector;  // layer -> P [d_mlp, d_mlp] float64
  std::map<int64_t, at::Tensor> cache_c;    // layer -> Σ K_p K_pᵀ [d_mlp, d_mlp] float64
  std::map<int64_t, int64_t> null_dims;     // layer -> rank of P
};

struct MemitLayerUpdate {
  int64_t layer = 0;
  std::string weight_name;   // "blocks.{l}.mlp.W_out"
  at::Tensor delta_w;        // [d_model, d_mlp] float64, CPU: what was added
  double residual_norm = 0;  // mean ‖Res_i‖ before this layer's update
  double seconds = 0;
};

struct MemitResult {
  std::vector<ValueResult> values;  // per request, in order
  std::vector<MemitLayerUpdate> layers;
  double value_seconds = 0;
  double key_seconds = 0;
  double solve_seconds = 0;
  double final_residual_norm = 0;  // mean ‖z_i − h_i‖ after all layers
};

/// P = U Uᵀ over the eigenvectors of `mom2` whose eigenvalues are below `threshold`.
at::Tensor alphaedit_projector(const at::Tensor& mom2, double threshold, int64_t* null_dims = nullptr);

/// Applies one batch of edits in place. `templates` are
/// sample_context_templates(hparams.context): their grouping comes from
/// hparams.context (a list of another length is an error). `mom2` maps every layer of
/// hparams.layers to its statistic (an undefined tensor means C = I). For
/// AlphaEdit, `state` must be non-null; missing projectors are computed from
/// `mom2` and the round's keys are added to its cache.
MemitResult apply_memit(harness::TextModel& model, const std::vector<EditRequest>& requests,
                        const MemitHparams& hparams, const std::vector<std::string>& templates,
                        const std::map<int64_t, at::Tensor>& mom2, MemitSolver solver,
                        AlphaEditState* state = nullptr);

}  // namespace editgate::editors
