#pragma once
// GRACE editing (Hartvigsen et al. 2023, "Aging with GRACE"): each edit adds
// to, or adjusts, a codebook at one layer's W_out instead of changing weights.
// The key is the layer's input at the edit prompt's last token; the value is
// trained (Adam on the target's NLL) to replace the layer's output there. When
// the new key falls within eps + radius of its nearest key: the same label
// (target) grows that key's radius to cover it (or, with "moving_average",
// moves the key halfway); a different label adds the key and halves both
// radii, so the two balls no longer overlap. Entries can be removed again.
//
// This unit owns the codebook rules and the value training; the codebook's
// type, file and installation in the model are harness/codebook_adapter.h's.

#include <cstdint>
#include <string>
#include <vector>

#include "editors/edit_hparams.h"
#include "editors/edit_request.h"
#include "harness/codebook_adapter.h"
#include "harness/text_model.h"

namespace editgate::editors {

struct GraceEditResult {
  std::string case_id;
  std::string action;      // "added", "expanded" (same label: radius grown), "covered" (already within
                           // the radius), "split" (a conflicting label: key added, radii halved)
  int64_t entry = -1;      // codebook index serving the edit after it
  double distance = -1;    // to the nearest earlier key; -1 when the codebook was empty
  int64_t steps = 0;       // Adam steps taken on the value
  double nll = 0;          // target NLL (mean per token) after training
  bool early_stopped = false;
  double seconds = 0;
};

/// Applies `requests` one after another to `codebook` (which must be at
/// h.layer, possibly empty) and trains the values, with the codebook installed
/// in `tm` throughout; `tm` ends with the final codebook installed. The base
/// weights are not written. InputError for a request whose target encodes to nothing.
std::vector<GraceEditResult> apply_grace(harness::TextModel& tm, const std::vector<EditRequest>& requests,
                                         const GraceHparams& h, harness::Codebook& codebook);

/// Drops `case_id` from the codebook: entries left serving no edit are removed
/// (radii that an earlier conflict halved stay as they are). Returns the number
/// of entries removed; 0 when no entry served the case.
int64_t remove_grace_edit(harness::Codebook& codebook, const std::string& case_id);

/// Removes entry `index` (0 <= index < size()).
void remove_codebook_entry(harness::Codebook& codebook, int64_t index);

}  // namespace editgate::editors
