#pragma once
// Activations at the subject's last token, read through hooks: the keys
// (blocks.{l}.mlp.hook_post) and values (hook_mlp_out, hook_resid_post) that
// ROME and MEMIT compute their updates from. This unit owns batching the
// prompts (right-padded, one forward pass per batch) and averaging a request's
// keys over the context templates; which layer and why is the editors'.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "editors/context_templates.h"
#include "editors/edit_request.h"
#include "harness/hook_names.h"
#include "harness/text_model.h"

namespace editgate::editors {

/// The activation at `point` at each prompt's subject_last: [n_prompts, d] float32
/// on the model's device. One forward pass per `max_batch` prompts; the forward
/// stops at `point`'s layer when nothing later is needed.
at::Tensor activations_at_subject(harness::TextModel& model, const std::vector<SubjectPrompt>& prompts,
                                  harness::HookPoint point, int64_t max_batch = 64);

/// Per request, the mean over `templates` of the key (blocks.{layer}.mlp.hook_post)
/// at the subject's last token of the templated prompt: [n_requests, d_mlp].
/// `groups` (context_template_groups) splits the templates into consecutive
/// groups: the keys are averaged within each group, then the group means
/// alike (MEMIT's compute_ks: "{}" weighs 1/2 beside one group of prefixes).
/// Empty: one group, every template alike (ROME's compute_u).
at::Tensor mean_subject_keys(harness::TextModel& model, const std::vector<EditRequest>& requests,
                             const std::vector<std::string>& templates, int64_t layer,
                             const std::vector<int64_t>& groups = {}, int64_t max_batch = 64);

/// Per request, the activation at `point` at the subject's last token of the bare prompt: [n_requests, d].
at::Tensor bare_prompt_activations(harness::TextModel& model, const std::vector<EditRequest>& requests,
                                   harness::HookPoint point, int64_t max_batch = 64);

}  // namespace editgate::editors
