#pragma once
// erase-model: LEACE on a model's own activations. Collects the activation at a
// hook point at each concept-dataset record's position, fits the eraser on the
// fit split, probes the held-out splits before and after (the "after"
// activations are collected with the eraser installed in the model), and
// measures fact recall with and without the eraser. This unit owns that
// pipeline and its output directory (and, on the same activations, how much
// the held-out result depends on the split: split_sensitivity.h); the dataset
// format is concept_dataset.h's, the pieces are leace.h's, eraser_hook.h's and
// probe_recovery.h's.
//
// Output directory (written atomically):
//   eraser.safetensors  bias, proj_left, proj_right; __metadata__ with format
//                       "editgate.eraser", hook, positions, model sha256, the fit report
//   report.json         EraseModelResult::to_json()

#include <ATen/core/Tensor.h>
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "editors/concept_behaviour.h"
#include "editors/concept_dataset.h"
#include "editors/concept_prompts.h"
#include "editors/eraser.h"
#include "editors/leace.h"
#include "editors/logistic_probe.h"
#include "editors/probe_metrics.h"
#include "editors/probe_recovery.h"
#include "editors/split_sensitivity.h"
#include "harness/hook_names.h"

namespace editgate::harness {
class TextModel;
}

namespace editgate::editors {

struct EraseModelOptions {
  LeaceOptions leace;
  LogisticProbeOptions probe;
  CrossValidation cv;          // the probes: k-fold by subject over probe_train and probe_test
  bool quadratic_probe = true;
  bool all_positions = false;  // install the eraser at every position (default: each record's own)
  int64_t batch_size = 32;
  // Also refit and reprobe on this many fresh subject-disjoint splits (same
  // shares as the dataset's own) and report the spread: 0 for none.
  int64_t resplits = 10;
  // Also score " " + class name after the probe records of this relation, without and with
  // the eraser (concept_behaviour.h): "" for none.
  std::string behaviour_relation;
};

struct EraseModelResult {
  std::string hook;
  std::string positions;  // "record" | "all"
  Eraser eraser;
  LeaceFitReport fit;
  ProbeReport linear_before, linear_after;
  std::optional<ProbeReport> quadratic_before, quadratic_after;
  RecallReport recall_base, recall_erased;  // over every record with an object, all splits
  std::optional<SplitSensitivity> resplits;
  std::optional<BehaviourReport> behaviour_base, behaviour_erased;

  nlohmann::json to_json() const;
};

EraseModelResult erase_model(harness::TextModel& tm, const ConceptDataset& dataset, harness::HookPoint point,
                             const EraseModelOptions& options = {});

/// Writes eraser.safetensors and report.json into `out_dir` atomically.
void write_erase_model_outputs(const std::filesystem::path& out_dir, const EraseModelResult& result,
                               const std::map<std::string, std::string>& metadata = {});

}  // namespace editgate::editors
