#pragma once
// FT-L (Zhu et al. 2020, as the ROME paper runs it): fine-tune one layer's MLP
// output projection W_out on the new targets' NLL (teacher forced, bare
// prompts), with every weight kept within an L∞ ball of radius
// norm_constraint around its original value after each Adam step. The
// baseline ROME and MEMIT are compared with. This unit owns the loop; the
// layer and the bound are hyperparameters.

#include <vector>

#include "editors/edit_hparams.h"
#include "editors/edit_request.h"
#include "harness/text_model.h"

namespace editgate::editors {

struct FineTuneResult {
  std::vector<double> losses;  // mean target NLL at each step, before the step
};

/// Edits the model in place (all requests in one batch per step).
FineTuneResult apply_fine_tune(harness::TextModel& model, const std::vector<EditRequest>& requests,
                               const FtHparams& hparams);

}  // namespace editgate::editors
