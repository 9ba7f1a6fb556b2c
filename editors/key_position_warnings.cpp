#include "editors/key_position_warnings.h"

#include <fmt/format.h>

#include "editors/context_templates.h"

namespace editgate::editors {

std::vector<std::string> key_position_warnings(const harness::TextModel& model, const std::vector<EditRequest>& requests) {
  std::vector<std::string> out;
  if (model.adds_bos()) return out;  // position 0 is the BOS, never a subject
  for (const auto& r : requests) {
    if (encode_subject_prompt(model, r.prompt, r.subject, r.case_id).subject_last != 0) continue;
    out.push_back(fmt::format(
        "case {}: the subject \"{}\" is the first token of \"{}\" and the model adds no BOS, so its key is read at "
        "the attention-sink position that every prompt starts with: expect the edit to change unrelated prompts "
        "(docs/real-models.md#subjects-at-position-0)",
        r.case_id, r.subject, r.prompt));
  }
  return out;
}

}  // namespace editgate::editors
