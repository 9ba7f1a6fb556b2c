#include "editors/method_hparams.h"

#include "editors/edit_hparams.h"
#include "editors/embedded_hparams.h"
#include "harness/input_error.h"

namespace editgate::editors {

nlohmann::json resolve_method_hparams(const std::string& method, const std::string& model_dir,
                                      const harness::ModelConfig& config, const std::string& hparams_file,
                                      std::string& source) {
  if (!hparams_file.empty()) {
    source = hparams_file;
    return read_hparams_file(hparams_file);
  }
  std::string names;
  for (const auto& n : embedded_hparams_names()) names += (names.empty() ? "" : ", ") + n;
  const auto model_key = default_hparams_model(model_dir, config);
  if (!model_key) {
    throw InputError("", "--hparams", "a hyperparameter file for this model", "none",
                     "no embedded defaults fit " + model_dir + " (embedded: " + names + ")");
  }
  const std::string key = method + "/" + *model_key;
  const auto text = embedded_hparams(key);
  if (!text) throw InputError("", "--hparams", "a hyperparameter file", "none", "no embedded " + key + " (embedded: " + names + ")");
  source = "<embedded>/editors/hparams/" + key + ".json";
  return nlohmann::json::parse(*text);
}

}  // namespace editgate::editors
