#pragma once
// edit_manifest.json: what `editgate edit` claims it did, written next to the
// edited checkpoint and checked by `editgate audit`. It records everything
// needed to reproduce the edit (editgate version, method, hyperparameters as
// used, seed, sampled context templates, requests, statistics cache keys) and
// everything needed to verify it (base and edited weights sha256; per changed
// tensor: name, Frobenius norm of the delta, numerical rank with its stated
// tolerance rule, sha256 after the edit), plus wall time per phase. This unit
// owns the schema (format "editgate.edit_manifest", version 1), rendering and
// parsing; the editors fill it in.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "editors/edit_request.h"
#include "editors/weight_delta.h"

namespace editgate::editors {

inline constexpr const char* kManifestFile = "edit_manifest.json";
inline constexpr const char* kManifestFormat = "editgate.edit_manifest";
inline constexpr int kManifestVersion = 1;

struct ChangedTensor {
  std::string name;         // HF tensor name as stored ("transformer.h.17.mlp.c_proj.weight")
  std::string stable_name;  // "blocks.17.mlp.W_out", when the editor addressed it so
  std::vector<int64_t> shape;
  std::string dtype;        // safetensors dtype name of the stored tensor
  DeltaStats delta;
  std::string sha256_after;  // of the stored bytes after the edit (weight_delta.h tensor_sha256)
};

struct EditManifest {
  std::string editgate_version;
  std::string method;  // rome | memit | alphaedit | ft
  nlohmann::ordered_json hparams;  // as used (canonical, overrides applied)
  std::string hparams_source;      // file or "<embedded>/rome/fixture.json"
  uint64_t seed = 0;
  std::vector<std::string> context_templates;
  std::vector<EditRequest> requests;
  std::string base_dir;
  std::string base_weights_sha256;
  std::string edited_weights_sha256;
  std::string device;
  std::string compute_dtype;
  nlohmann::ordered_json statistics = nlohmann::ordered_json::array();  // per layer: key, key sha, tokens, cached
  std::vector<ChangedTensor> tensors;
  std::map<std::string, double> phase_seconds;                         // statistics, keys, values, update, save...
  nlohmann::ordered_json per_request = nlohmann::ordered_json::array();  // optimisation outcome per case
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();       // method-specific (e.g. sequential rounds)
  // What the editor saw in the requests that predicts collateral, one line each
  // (editors/key_position_warnings.h); the gate's report shows them.
  std::vector<std::string> warnings;
  // An inference-time adapter the edit adds instead of (or besides) weight
  // changes, null when none. GRACE: {"kind": "grace_codebook", "file":
  // "grace_codebook.safetensors", "sha256", "layer", "entries"}; TextModel::load
  // installs it (harness/codebook_adapter.h).
  nlohmann::ordered_json adapter;
};

nlohmann::ordered_json to_json(const EditManifest& m);

/// Parses a manifest (the fields audit needs are required, the rest optional).
/// InputError naming `path` and the field otherwise.
EditManifest parse_manifest(const nlohmann::json& j, const std::string& path);
EditManifest load_manifest(const std::filesystem::path& path);

}  // namespace editgate::editors
