#pragma once
// Requests whose key would sit at the attention-sink position. ROME, MEMIT and
// AlphaEdit key an edit on the subject's last token. When that token is the
// prompt's first and the model adds no BOS (SmolLM2, GPT-2), the key is read at
// position 0, where every prompt's first token sits and the residual stream is
// dominated by what all first tokens share, so the rank-one update also fires
// on the first token of unrelated prompts. Measured on SmolLM2-135M: such edits
// ("France is a country on the continent of") keep 73-86 of 193 unrelated
// facts, against 186-192 for subjects later in the prompt (docs/real-models.md).
// The edit still runs: the warning says why its collateral will be large.

#include <string>
#include <vector>

#include "editors/edit_request.h"
#include "harness/text_model.h"

namespace editgate::editors {

/// One line per request whose subject's last token is the prompt's first
/// token of a model that adds no BOS; empty when there is none.
std::vector<std::string> key_position_warnings(const harness::TextModel& model, const std::vector<EditRequest>& requests);

}  // namespace editgate::editors
