#pragma once
// One `editgate edit` run as a library call: validates the requests against the
// model's tokenizer, samples the context templates, collects (or reads cached)
// second-moment statistics, applies ROME, MEMIT, AlphaEdit, FT-L or a trained MEND editor to the model
// in place (GRACE: installs a codebook adapter, manifest "adapter"), and fills the edit manifest (changed tensors with their delta norm,
// numerical rank and sha256; timings per phase). Saving the checkpoint is the
// caller's (the CLI writes the directory and the manifest atomically). This
// unit owns the orchestration; every algorithm lives in its own unit.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "editors/edit_manifest.h"
#include "editors/edit_request.h"
#include "editors/text_corpus.h"
#include "harness/text_model.h"

namespace editgate::editors {

struct EditJob {
  std::string method;                     // an edit_methods() name
  nlohmann::json hparams;                 // the file's JSON
  std::string hparams_source;             // where it came from (for messages and the manifest)
  std::filesystem::path editor_dir;       // mend: the trained editor (`editgate mend train`); its hparams are used
  std::optional<std::vector<int64_t>> layers;  // --layers override
  uint64_t seed = 0;
  std::vector<EditRequest> requests;
  std::string requests_source;            // file name, for messages
  std::optional<TextCorpus> corpus;       // required when the method uses C
  std::filesystem::path stats_cache_dir;  // empty: no cache
  std::optional<int64_t> mom2_max_tokens; // --mom2-tokens override
  bool show_progress = true;
  // Sequential editing (--sequential --batch-size B): the requests are applied
  // in rounds of batch_size (AlphaEdit keeps its key cache across rounds); after
  // each round the manifest's extra.sequential records the efficacy (new object
  // top-1) of every edit so far and the preservation rate (top-1 unchanged vs
  // the base) on `preservation_prompts`. 0: one round.
  int64_t batch_size = 0;
  std::vector<std::string> preservation_prompts;
};

/// One editing method: its name (`--method`), a line for --help, the stable
/// names of the weights it will change (for the before/after snapshot that
/// proves nothing else changed), and the run that edits the model in place
/// and fills the manifest.
struct EditorEntry {
  std::string name;
  std::string summary;
  std::function<std::vector<std::string>(const harness::TextModel&, const EditJob&, int64_t n_layers)> planned_weights;
  std::function<void(harness::TextModel&, const EditJob&, EditManifest&)> run;
};

/// Every method, in the order --help lists them.
const std::vector<EditorEntry>& edit_methods();
/// The entry of `method`; InputError (--method) listing the known ones otherwise.
const EditorEntry& find_editor(std::string_view method);
/// "rome, memit, alphaedit, ft, grace, mend".
std::string edit_method_names();

/// Edits `model` in place and returns the manifest (edited_weights_sha256 and
/// sha256_after computed for the model's stored dtype). InputError for a bad
/// method, hyperparameters, layer, request (naming the case id) or a missing corpus.
EditManifest run_edit(harness::TextModel& model, const EditJob& job);

/// Writes the edited checkpoint atomically: `tm`'s weights in their stored
/// dtype, the non-weight files of the base, edit_manifest.json and, when the
/// manifest declares an adapter, the installed codebook (its sha256 recorded in
/// the manifest first). Returns the manifest's JSON text as written.
std::string save_edited_checkpoint(const harness::TextModel& tm, EditManifest& manifest,
                                   const std::filesystem::path& out);

/// Checks that every request's subject encodes to a token of its own in its prompt
/// and every target to at least one token; InputError naming `source` and the case.
void validate_requests(const harness::TextModel& model, const std::vector<EditRequest>& requests,
                       const std::string& source);

}  // namespace editgate::editors
