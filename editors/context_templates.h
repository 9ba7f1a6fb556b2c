#pragma once
// Context templates and subject-located prompts for the key/value editors.
// ROME and MEMIT average the key k* (and optimise v*) over the edit prompt
// preceded by short text prefixes that the model itself generates. The
// reference samples them unseeded, which makes its edits irreproducible; here
// they come from a seeded top-k sampler and are returned as text so the
// manifest can record them. This unit also owns turning (template, request)
// into token ids with the index of the subject's last token, as the reference's
// "subject_last" fact token does. The sampling loop is a plain batched forward
// per token (prefixes are 5-10 tokens; a KV cache would not pay for itself).

#include <cstdint>
#include <string>
#include <vector>

#include "editors/edit_hparams.h"
#include "editors/edit_request.h"
#include "harness/text_model.h"

namespace editgate::editors {

/// "{}" followed by one template per sampled prefix: prefix + separator + "{}".
/// Deterministic for (model weights, params, seed). Special tokens are never
/// sampled; "{" and "}" in generated text are replaced by spaces. With
/// params.fixed, those templates flattened (nothing is sampled).
std::vector<std::string> sample_context_templates(harness::TextModel& model, const ContextTemplateParams& params,
                                                  uint64_t seed);

/// How many consecutive templates of sample_context_templates' list form each
/// group: 1 for "{}", then one count per length entry (or fixed group).
std::vector<int64_t> context_template_groups(const ContextTemplateParams& params);

/// Token ids of a prompt with the position of the subject's last token.
struct SubjectPrompt {
  std::vector<int64_t> ids;  // encode_prompt(text): BOS first when the model wants it
  int64_t subject_last = 0;  // index into ids
};

/// `prompt` holds "{}" once, where `subject` goes. InputError naming `case_id`
/// when the subject encodes to no token of its own.
SubjectPrompt encode_subject_prompt(const harness::TextModel& model, const std::string& prompt,
                                    const std::string& subject, const std::string& case_id);

/// The request's prompt inside a context template ("prefix. {}" -> "prefix. The capital of {} is").
std::string in_template(const std::string& context_template, const std::string& prompt);

/// Target token ids (" " + target); InputError naming the case when it encodes to nothing.
std::vector<int64_t> encode_target(const harness::TextModel& model, const std::string& target,
                                   const std::string& case_id, const std::string& field);

}  // namespace editgate::editors
