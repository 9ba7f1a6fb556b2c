#include "editors/steering.h"
#include "harness/file_io.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <sstream>

#include "editors/eraser_hook.h"
#include "harness/input_error.h"

namespace editgate::editors {
namespace {

at::Tensor last_token_activations(harness::TextModel& tm, harness::HookPoint point, const std::vector<std::string>& prompts) {
  std::vector<std::vector<int64_t>> ids;
  std::vector<int64_t> last;
  for (const auto& p : prompts) {
    ids.push_back(tm.encode_prompt(p));
    last.push_back(static_cast<int64_t>(ids.back().size()) - 1);
  }
  return collect_activations(tm.model(), point, ids, last);  // [n, width] float32
}

}  // namespace

SteeringFit fit_steering(harness::TextModel& tm, harness::HookPoint point, const std::vector<std::string>& positive,
                         const std::vector<std::string>& negative, double scale) {
  if (positive.empty()) throw InputError("", "--positive", "at least one prompt", "none");
  if (negative.empty()) throw InputError("", "--negative", "at least one prompt", "none");
  const auto* installed = tm.steering();
  const auto keep = installed != nullptr ? std::optional<harness::SteeringVector>(*installed) : std::nullopt;
  tm.install_steering(nullptr);  // fit on the unsteered model
  const auto pos = last_token_activations(tm, point, positive);
  const auto neg = last_token_activations(tm, point, negative);
  tm.install_steering(keep ? &*keep : nullptr);
  SteeringFit f;
  f.steering.point = point;
  f.steering.vector = (pos.mean(0) - neg.mean(0)).contiguous();
  f.steering.scale = scale;
  f.n_positive = pos.size(0);
  f.n_negative = neg.size(0);
  f.vector_norm = f.steering.vector.norm().item<double>();
  f.mean_activation_norm = at::cat({pos, neg}).norm(2, {1}).mean().item<double>();
  return f;
}

std::vector<std::string> read_prompt_file(const std::filesystem::path& path, const std::string& flag) {
  const std::string text = harness::read_file(path, "a readable prompts file (" + flag + ")");
  std::vector<std::string> out;
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '[') {
    const auto j = harness::parse_json_strict(text, path.string());
    for (size_t i = 0; i < j.size(); ++i) {
      if (!j[i].is_string()) throw InputError(path.string(), "[" + std::to_string(i) + "]", "a prompt string", j[i].dump());
      out.push_back(j[i].get<std::string>());
    }
    return out;
  }
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") != std::string::npos) out.push_back(line);
  }
  return out;
}

}  // namespace editgate::editors
