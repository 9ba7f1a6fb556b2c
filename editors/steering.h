#pragma once
// Fitting a steering vector (harness/steering_adapter.h): the mean activation
// at a hook point over the last tokens of the "positive" prompts minus that over
// the "negative" prompts (difference of means; Turner et al. 2023, Zou et al.
// 2023). This unit owns the fit and reading the prompt files; installing the
// vector is the harness's, writing the steered checkpoint edit_runner.h's.

#include <filesystem>
#include <string>
#include <vector>

#include "harness/steering_adapter.h"
#include "harness/text_model.h"

namespace editgate::editors {

struct SteeringFit {
  harness::SteeringVector steering;
  int64_t n_positive = 0, n_negative = 0;
  double vector_norm = 0;          // ‖mean(pos) - mean(neg)‖
  double mean_activation_norm = 0;  // mean ‖activation‖ over both sets, for choosing a scale
};

/// InputError (field "--positive"/"--negative") for an empty set. Activations
/// are read at each prompt's last token with no steering installed.
SteeringFit fit_steering(harness::TextModel& model, harness::HookPoint point, const std::vector<std::string>& positive,
                         const std::vector<std::string>& negative, double scale);

/// A prompts file: a JSON array of strings, or text with one prompt per non-empty line.
std::vector<std::string> read_prompt_file(const std::filesystem::path& path, const std::string& flag);

}  // namespace editgate::editors
