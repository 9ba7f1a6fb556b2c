#pragma once
// Which hyperparameters an edit runs with: the user's file when one is given,
// else the embedded editors/hparams/{method}/{model}.json that fits the
// checkpoint. This unit owns that choice and the message when nothing fits;
// parsing the fields is edit_hparams.h's, the embedded table embedded_hparams.h's.

#include <nlohmann/json.hpp>

#include <string>

#include "harness/model_config.h"

namespace editgate::editors {

/// The hyperparameter JSON of `method` for the checkpoint at `model_dir`:
/// `hparams_file` when not empty, else the embedded default for the model.
/// `source` receives where they came from (the file, or "<embedded>/editors/hparams/...").
/// InputError (field --hparams) when no embedded default fits.
nlohmann::json resolve_method_hparams(const std::string& method, const std::string& model_dir,
                                      const harness::ModelConfig& config, const std::string& hparams_file,
                                      std::string& source);

}  // namespace editgate::editors
