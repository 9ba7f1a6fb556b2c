#pragma once
// MEND's gradient factors (Mitchell et al. 2022): for a linear layer y = W x,
// the gradient of a loss is a sum of rank-one terms over tokens,
// dL/dW = sum_t delta_t u_t^T, with u_t the layer's input and delta_t the
// gradient of the loss w.r.t. its output at token t. This unit captures
// (u, delta) for chosen MLP weights in one forward and backward pass through
// hooks, without computing any parameter gradient; what is done with the
// factors is mend_network.h's.
//
// Supported weights (stable names): blocks.{l}.mlp.W_out on every
// architecture (u at mlp.hook_post, delta at hook_mlp_out) and
// blocks.{l}.mlp.W_in on GPT-2 (delta at mlp.hook_pre; u, the ln_2 output, is
// recomputed from hook_resid_pre + hook_attn_out, since no hook carries it).

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "editors/target_batch.h"
#include "harness/text_model.h"

namespace editgate::editors {

struct MendFactors {
  at::Tensor u;      // [tokens, d_in] f32, the layer input at each non-padding token
  at::Tensor delta;  // [tokens, d_out] f32, dL/d(output) there
};

/// Checks that `name` is a weight MEND can edit in this model; InputError naming `source` otherwise.
void check_mend_weight(const harness::Transformer& model, const std::string& name, const std::string& source);

/// One forward and backward pass of target_nll(batch) through `tm` as it is;
/// the factors of each weight in `weights`, in that order (detached). `loss`,
/// when given, receives the target NLL.
std::vector<MendFactors> capture_factors(harness::TextModel& tm, const std::vector<std::string>& weights,
                                         const TargetBatch& batch, double* loss = nullptr);

}  // namespace editgate::editors
