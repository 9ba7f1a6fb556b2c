#pragma once
// Non-finite activations: finite weights can still overflow (a damaged edit,
// a huge delta, f16 range). Scoring and generation check their logits at the
// real (unmasked) tokens, one isfinite per batch; when a value is NaN or Inf
// the batch is run again with read hooks at every hook point to name the first
// one (in forward order) where it appears, and InputError reports the
// checkpoint and that hook point: a damaged model is bad input, never silent
// garbage metrics.

#include <ATen/core/Tensor.h>

#include "harness/transformer.h"

namespace editgate::harness {

// `logits` [batch, pos, vocab] from model.forward(ids, options) ([batch, k, vocab]
// when options.logit_positions is set, all of them checked); `mask` [batch, pos],
// 1 at real tokens (undefined: every position is real).
void require_finite_logits(Transformer& model, const at::Tensor& logits, const at::Tensor& ids,
                           const ForwardOptions& options, const at::Tensor& mask);

}  // namespace editgate::harness
