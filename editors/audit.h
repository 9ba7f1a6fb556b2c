#pragma once
// `editgate audit`: compares an edited checkpoint with its base tensor by
// tensor and checks the edit manifest's claims. A tensor that changed but is
// not declared, a declared rank that the measured delta exceeds, a declared
// sha256 that the file does not have, a manifest made from another base, or
// tensors added, removed or reshaped make the audit fail; so does a declared
// adapter (GRACE codebook) that is missing or not the file the manifest hashed,
// or a codebook file no manifest declares. This unit owns the
// comparison and the verdict; the rank rule is weight_delta.h's, reading the
// files weight_store.h's.

#include <nlohmann/json.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "editors/weight_delta.h"

namespace editgate::editors {

struct AuditedTensor {
  std::string name;
  DeltaStats measured;
  bool declared = false;
  int64_t declared_rank = -1;     // -1 when not declared
  bool sha256_matches = true;     // declared sha256_after == the file's bytes (true when none declared)
};

struct AuditResult {
  bool manifest_found = false;
  std::string method;
  std::string base_weights_sha256;    // of the base directory
  std::string edited_weights_sha256;  // of the edited directory
  std::vector<AuditedTensor> changed;         // tensors whose bytes differ, sorted by name
  std::vector<std::string> declared_unchanged;  // declared but byte-identical (reported, not a failure)
  std::vector<std::string> problems;          // one line each; empty means pass
  int64_t tensors_compared = 0;
  // The manifest's inference-time adapter as found on disk (null when none):
  // kind, file, layer, entries (codebook size), sha256_matches.
  nlohmann::ordered_json adapter;
  bool pass() const { return problems.empty(); }
};

/// Opens both checkpoints (InputError for unreadable ones or a malformed manifest)
/// and audits `edited` against `base` and `edited`/edit_manifest.json. `base` may
/// be a GGUF file: its tensors are then the f32 ones it loads as (an edit of it saves those).
AuditResult audit_checkpoints(const std::filesystem::path& base, const std::filesystem::path& edited);

nlohmann::ordered_json to_json(const AuditResult& r);

}  // namespace editgate::editors
