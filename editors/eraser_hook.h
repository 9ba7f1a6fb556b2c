#pragma once
// Erasers inside a model: installing an Eraser at a hook point for the forward
// passes that follow (all positions, or one position per batch row, e.g. the
// subject's last token the eraser was fitted on: its mean term belongs to those
// statistics, and applied everywhere an eraser can wreck unrelated recall), and
// collecting activations at chosen positions (what erasers are fitted on and
// probes read). Everything goes through the hook registry; nothing here reaches
// into the model. This unit owns the hook callbacks and the batching of
// collection; fitting and scoring belong to others.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "editors/eraser.h"
#include "harness/hooks.h"
#include "harness/transformer.h"

namespace editgate::editors {

/// Width of the activation at `site` as an eraser sees it (trailing dims
/// flattened): d_model, d_mlp, or n_heads * d_head for attn.hook_z.
int64_t hook_width(const harness::ModelConfig& config, harness::HookSite site);

/// Installs `eraser` at `point` for every token position of every row. The
/// eraser is cast once to the model's device and the activation's dtype.
/// InputError (field "hook") when the eraser's width differs from the hook's.
[[nodiscard]] harness::HookHandle install_eraser(harness::Transformer& model, harness::HookPoint point,
                                                 const Eraser& eraser);

/// Installs `eraser` at `point` only at absolute position positions[b] of batch
/// row b (the batch must have positions.size() rows; with a KV cache a row
/// whose position lies outside the current columns is left alone).
[[nodiscard]] harness::HookHandle install_eraser(harness::Transformer& model, harness::HookPoint point,
                                                 const Eraser& eraser, std::vector<int64_t> positions);

/// Runs `prompts` (token ids, right-padded into batches of `batch_size`) and
/// returns the activation at `point` at positions[i] of prompt i: [n, width]
/// float32 on CPU. Hooks already installed (an eraser) act as usual, so
/// installing an eraser at `point` first collects the erased activation.
at::Tensor collect_activations(harness::Transformer& model, harness::HookPoint point,
                               const std::vector<std::vector<int64_t>>& prompts, const std::vector<int64_t>& positions,
                               int64_t batch_size = 32);

}  // namespace editgate::editors
