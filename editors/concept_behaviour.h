#pragma once
// The behavioural side of a concept erasure: does the model still act on the
// concept, not only carry it? For the records of one relation (the name-gender
// dataset's "NAME is a"), log P(" " + class name) after the prompt for every
// class, averaged per true class; with two classes also the mean of
// log P(classes[1]) - log P(classes[0]) per true class with a 95 % interval
// (records are independent units here: one record of the relation per subject).
// Erasers are the caller's: it installs them per batch through a callback (a
// position-targeted eraser needs the batch's positions) or once around the call.

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "editors/concept_dataset.h"
#include "harness/hooks.h"

namespace editgate::harness {
class TextModel;
}

namespace editgate::editors {

struct BehaviourReport {
  std::string relation;
  std::vector<std::string> classes;
  std::vector<int64_t> n;                         // records per true class
  std::vector<std::vector<double>> mean_logprob;  // [true class][class whose name is scored]
  // Two classes only: per true class, mean and 95 % interval of log P(classes[1]) - log P(classes[0]).
  std::vector<double> mean_diff, diff_low, diff_high;

  /// mean_diff[1] - mean_diff[0]: how far apart the classes' preferences are (0 when the model
  /// cannot tell them); NaN unless two classes.
  double gap() const;
  nlohmann::json to_json() const;
};

/// Installs hooks for one batch whose rows read their concept at `positions`
/// (empty handles: nothing to install).
using BatchHooks = std::function<std::vector<harness::HookHandle>(const std::vector<int64_t>& positions)>;

/// The report over `records` whose relation is `relation` (`positions` as from
/// encode_records, one per record). InputError (field "--behaviour") when no
/// record has that relation.
BehaviourReport concept_behaviour(harness::TextModel& tm, const ConceptDataset& dataset,
                                  const std::vector<const ConceptRecord*>& records,
                                  const std::vector<int64_t>& positions, const std::string& relation,
                                  const BatchHooks& hooks = {}, int64_t batch_size = 32);

}  // namespace editgate::editors
