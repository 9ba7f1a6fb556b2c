#pragma once
// The target-value optimisation shared by ROME (v* at W_out's output, hook_w_out, of the
// edit layer) and MEMIT/AlphaEdit (z at the residual stream after the last
// edit layer): find δ added at the subject's last token that makes the model
// predict the new target, with
//   L(δ) = mean over context templates of the target's per-token NLL (teacher
//          forced) + kl_factor · KL(P_δ ‖ P₀) at the subject of the essence
//          prompts ("{} is a") + weight_decay · ‖δ‖ / ‖v₀‖²,
// with P_δ the next-token distribution with δ and P₀ the one without (the
// ROME paper's eq. 4 and the reference's direction; docs/editors.md),
// Adam, at most num_steps forward passes, early stop when L < early_stop_loss,
// and ‖δ‖ clamped to clamp_norm_factor · ‖v₀‖ after every step (kmeng01/rome
// compute_v.py, memit compute_z.py). The reference optimises one request at a
// time; here a chunk of requests shares every forward/backward pass. Adam is
// element-wise and the loss is a sum of per-request terms, so each request's δ
// follows the same trajectory as alone; a request that reaches the early stop
// is frozen while the others go on.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "editors/edit_hparams.h"
#include "editors/edit_request.h"
#include "harness/hook_names.h"
#include "harness/text_model.h"

namespace editgate::editors {

struct ValueResult {
  at::Tensor v0;     // [d] activation at the subject's last token of the bare prompt, before δ
  at::Tensor delta;  // [d] the optimised δ (float32)
  int64_t steps = 0;      // forward passes used
  double loss = 0;        // total loss at the last forward pass
  double nll = 0;         // its target-NLL part (mean per token)
  double kl = 0;          // its KL part, before kl_factor
  bool early_stopped = false;
};

struct ValueOptions {
  int64_t max_batch_elements = int64_t{1} << 28;  // rows × positions × vocab of one chunk's logits
  // Run the tokens before each subject's last token once into a KV cache (they do
  // not depend on δ) rather than at every step. Same result; false runs whole rows
  // (ValueOptimizer.PrefixCacheChangesNothing and BM_ValueSearch compare the two).
  bool cache_prefix = true;
  // How often the host looks at the early stop: every step, or every k-th. Each
  // look is a device-to-host copy, which on a GPU stalls the queue once per step;
  // between looks the GPU runs ahead. Same result (a request that stops is frozen
  // where it stopped, ValueOptimizer.StopCheckIntervalChangesNothing); when every
  // request stops early, up to k - 1 steps are wasted. 0: 1 on CPU, 8 on CUDA.
  int64_t stop_check_every = 0;
};

/// One δ per request at `point` (kMlpWOut of the ROME layer, or kResidPost of
/// MEMIT's last layer), optimised in chunks of requests. `templates` are the
/// context templates ("{}" first); the first one gives v₀.
std::vector<ValueResult> optimize_values(harness::TextModel& model, const std::vector<EditRequest>& requests,
                                         const std::vector<std::string>& templates, harness::HookPoint point,
                                         const ValueParams& params, const ValueOptions& options = {});

}  // namespace editgate::editors
