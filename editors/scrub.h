#pragma once
// Concept scrubbing (erase-model --scrub): LEACE at the residual stream entering
// every layer (blocks.{l}.hook_resid_pre, l = 0 .. L-1), at every token position,
// each eraser fitted on activations that already pass through the erasers of
// the layers before it, so no layer can read the concept linearly from its
// input and the model cannot use it anywhere, not only at one probe site
// (Belrose et al. 2023, "LEACE", section 6; EleutherAI concept-erasure's
// scrubbing is the reference design, which also erases between a layer's
// attention and MLP; here the unit is the layer). Every token of a record
// carries the record's label, as in the reference.
//
// The fit is one forward pass over the dataset's fit split as a single batch:
// the hook at layer l fits its eraser on that batch's (non-padding) rows and
// returns them erased, so layer l + 1 sees erased inputs. That holds the fit
// split's activations of one layer in memory at a time; a fit split too large
// for one batch needs the layer-by-layer caching of the reference.
//
// Then, with the fitted erasers installed at every position: a probe at every
// scrubbed hook at each probe record's own position (cross-validated by
// subject, before and after), fact recall of the dataset's records with
// objects and of extra facts, the behavioural check (concept_behaviour.h), and
// the per-token negative log-likelihood of a text. This unit owns that
// pipeline and the scrubber's files; the pieces are leace.h's, probe_recovery.h's,
// concept_prompts.h's and concept_behaviour.h's.
//
// Output directory (written atomically):
//   blocks.{l}.hook_resid_pre.safetensors   one eraser file per layer (eraser.h's format;
//                                           metadata: hook, positions "all", the fit report)
//   report.json                             ScrubResult::to_json()

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "editors/concept_behaviour.h"
#include "editors/concept_dataset.h"
#include "editors/concept_prompts.h"
#include "editors/eraser.h"
#include "editors/leace.h"
#include "editors/logistic_probe.h"
#include "editors/probe_metrics.h"
#include "editors/probe_recovery.h"
#include "harness/hooks.h"
#include "harness/transformer.h"

namespace editgate::editors {

class TextCorpus;

struct ScrubOptions {
  LeaceOptions leace;
  LogisticProbeOptions probe;
  CrossValidation cv;
  int64_t batch_size = 32;                 // evaluation passes (the fit is one batch)
  std::string behaviour_relation;          // "" for no behavioural check
  std::vector<ConceptRecord> extra_facts;  // facts beyond the dataset's (prompt, object, relation)
  const TextCorpus* text = nullptr;        // NLL cost over its documents; not owned
  int64_t text_max_tokens = 128;           // tokens scored per document
};

struct ScrubLayer {
  std::string hook;
  LeaceFitReport fit;
  // On the fit rows (every token), the largest |class mean - overall mean| over classes and
  // dimensions, before and after this layer's eraser: after is ~0 when the fit holds.
  double class_mean_gap_before = 0.0, class_mean_gap_after = 0.0;
  ProbeReport linear_before, linear_after;  // at each probe record's own position
};

struct TextNll {
  int64_t documents = 0;
  int64_t tokens = 0;
  double mean_nll = 0.0;  // per token, nats
  double perplexity() const;
  nlohmann::json to_json() const;
};

struct ScrubResult {
  std::vector<ScrubLayer> layers;
  std::vector<Eraser> erasers;  // erasers[l] at blocks.{l}.hook_resid_pre
  int64_t fit_rows = 0;         // token rows each eraser was fitted on
  RecallReport recall_base, recall_erased;
  std::optional<RecallReport> extra_facts_base, extra_facts_erased;
  std::optional<BehaviourReport> behaviour_base, behaviour_erased;
  std::optional<TextNll> text_base, text_erased;

  nlohmann::json to_json() const;
};

/// Installs erasers[l] at blocks.{l}.hook_resid_pre at every position.
[[nodiscard]] std::vector<harness::HookHandle> install_scrubber(harness::Transformer& model,
                                                                const std::vector<Eraser>& erasers);

ScrubResult scrub_model(harness::TextModel& tm, const ConceptDataset& dataset, const ScrubOptions& options = {});

/// Writes the erasers and report.json into `out_dir` atomically.
void write_scrub_outputs(const std::filesystem::path& out_dir, const ScrubResult& result,
                         const std::map<std::string, std::string>& metadata = {});

}  // namespace editgate::editors
