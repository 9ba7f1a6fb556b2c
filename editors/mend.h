#pragma once
// MEND (Mitchell et al. 2022, "Fast Model Editing at Scale"): training the
// hypernetwork of mend_network.h on edit requests, and editing with it.
//
// Training step, per edit (batch_size edits a step, each applied alone): the
// gradient factors (u, delta) of the target NLL on the rewrite prompt
// (mend_factors.h); the update dW_l of each weight; the weights replaced by
// W_l - dW_l *as graph tensors* for the forward passes (so the loss reaches
// the hypernetwork; restored afterwards, also on an exception); loss =
// cedit * NLL(target_new | rewrite prompt and paraphrases) + cloc * KL(base ||
// edited) over every position of the locality prompts (the edit's
// neighbourhood prompts plus n_loc prompts of other training requests).
// Adam on the network (lr) and on the alphas (lr_lr). Deterministic on the CPU
// for a given seed.
//
// Editing: one forward/backward pass per request, one network pass, W -= dW.
// This unit owns both loops; the editor directory is mend_editor_file.h's.

#include <cstdint>
#include <string>
#include <vector>

#include "editors/edit_hparams.h"
#include "editors/edit_request.h"
#include "editors/mend_network.h"
#include "harness/text_model.h"

namespace editgate::editors {

/// A fresh, identity-initialised network for h.inner_params of `tm`
/// (InputError naming `source` for a weight MEND cannot edit).
MendNetwork make_mend_network(const harness::TextModel& tm, const MendHparams& h, uint64_t seed,
                              const std::string& source = "hparams");

struct MendTrainOptions {
  int64_t steps = -1;  // -1: h.max_iters
  uint64_t seed = 0;   // request sampling order
  bool show_progress = false;
};

struct MendTrainResult {
  std::vector<double> losses;       // per step: the batch's mean loss (before the step)
  std::vector<double> edit_losses;  // per step: mean edited target NLL
  std::vector<double> loc_losses;   // per step: mean KL(base || edited)
  int64_t steps = 0;
  double seconds = 0;
};

/// Trains `net` on `requests` (the model's weights are left as they were).
/// InputError when a request's target encodes to nothing.
MendTrainResult train_mend(harness::TextModel& tm, MendNetwork& net, const std::vector<EditRequest>& requests,
                           const MendHparams& h, const MendTrainOptions& options);

/// The mean training loss of `net` over `requests` (each edit alone), its
/// edit NLL and KL parts; no parameter changes. For tests and reports.
struct MendLoss {
  double loss = 0, edit = 0, loc = 0;
};
MendLoss mend_loss(harness::TextModel& tm, const MendNetwork& net, const std::vector<EditRequest>& requests,
                   const MendHparams& h);

struct MendEditResult {
  std::string case_id;
  double nll_before = 0;  // target NLL on the rewrite prompt, mean per token
  double nll_after = 0;
  std::vector<double> update_norms;  // |dW|_F per weight
  double seconds = 0;
};

/// Edits `tm` in place, one request after another (each on the weights the
/// previous ones left).
std::vector<MendEditResult> apply_mend(harness::TextModel& tm, const MendNetwork& net,
                                       const std::vector<EditRequest>& requests);

/// The update of `net` for `requests` edited together on `tm` as it is, per
/// weight [d_out, d_in] (not applied). apply_mend adds nothing else.
std::vector<at::Tensor> mend_updates(harness::TextModel& tm, const MendNetwork& net,
                                     const std::vector<EditRequest>& requests);

}  // namespace editgate::editors
