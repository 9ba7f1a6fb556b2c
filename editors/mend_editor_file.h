#pragma once
// The MEND editor directory that `editgate mend train` writes and `editgate
// edit --method mend --editor DIR` reads: mend.safetensors (the hypernetwork's
// tensors, statistics and alphas, as MendNetwork::named_tensors() names them)
// and mend.json (format, version, hyperparameters, the edited weights with
// their shapes and alphas, the base model it was trained on, the training
// record). Written atomically as a directory. This unit owns the layout and
// its validation; the network is mend_network.h's.

#include <nlohmann/json.hpp>

#include <filesystem>

#include "editors/edit_hparams.h"
#include "editors/mend_network.h"
#include "harness/text_model.h"

namespace editgate::editors {

inline constexpr const char* kMendFormat = "editgate.mend";
inline constexpr const char* kMendWeightsFile = "mend.safetensors";
inline constexpr const char* kMendConfigFile = "mend.json";

/// Writes `dir` atomically (replacing it). `training`: what the caller wants on record.
void write_mend_editor(const std::filesystem::path& dir, const harness::TextModel& base, const MendNetwork& net,
                       const MendHparams& h, const nlohmann::ordered_json& training);

struct MendEditor {
  MendHparams hparams;
  nlohmann::json config;  // mend.json as read
  MendNetwork network;
};

/// Reads `dir` for `tm` (its weights must exist with the trained shapes).
/// InputError naming the file and field for a missing directory or file,
/// invalid JSON, a wrong format or version, bad hyperparameters or tensors.
MendEditor read_mend_editor(const std::filesystem::path& dir, const harness::TextModel& tm);

}  // namespace editgate::editors
