#pragma once
// The hyperparameter files of editors/hparams/{method}/{model}.json, embedded
// in the binary at build time (CMake reads them into embedded_hparams.cpp), so
// `editgate edit` needs no source tree; plus editgate's version string for
// manifests. This unit owns lookup by "{method}/{model}" and the choice of a
// default file for a checkpoint.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/model_config.h"

namespace editgate::editors {

/// The JSON text of "rome/gpt2-xl" etc., or nullopt.
std::optional<std::string_view> embedded_hparams(std::string_view method_and_model);
/// Every embedded "{method}/{model}", sorted.
std::vector<std::string> embedded_hparams_names();

/// The model key whose defaults fit a checkpoint: a fixture's (a fixture.json beside
/// config.json: its world_config.editing.hparams, else "fixture"), "gpt2-xl"
/// (GPT-2 with 48 layers of width 1600), "gpt-j"
/// (model_type gptj), "smollm2" (a Llama of 30 × 576), "gemma3" (Gemma 3 of
/// 18 × 640: the 270M), "pythia-1.4b" (GPT-NeoX of 24 × 2048); nullopt otherwise.
std::optional<std::string> default_hparams_model(const std::string& dir, const harness::ModelConfig& config);

/// "0.1.0": the project version from CMakeLists.txt.
std::string_view editgate_version();

}  // namespace editgate::editors
