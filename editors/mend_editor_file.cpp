#include "editors/mend_editor_file.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <fstream>
#include <map>

#include "editors/mend.h"
#include "harness/atomic_file.h"
#include "harness/output_guard.h"
#include "harness/checkpoint.h"
#include "harness/input_error.h"
#include "harness/json_file.h"
#include "harness/safetensors_reader.h"
#include "harness/safetensors_writer.h"

namespace editgate::editors {

namespace fs = std::filesystem;

void write_mend_editor(const fs::path& dir, const harness::TextModel& base, const MendNetwork& net,
                       const MendHparams& h, const nlohmann::ordered_json& training) {
  const auto& c = base.model().config();
  nlohmann::ordered_json weights = nlohmann::ordered_json::array();
  for (size_t i = 0; i < net.weights().size(); ++i) {
    weights.push_back({{"name", net.weights()[i]}, {"d_in", net.shape(i).d_in}, {"d_out", net.shape(i).d_out},
                       {"edit_lr", net.alpha(i)}});
  }
  nlohmann::ordered_json j = {
      {"format", kMendFormat},
      {"version", 1},
      {"hparams", to_json(h)},
      {"weights", weights},
      {"normalisation", "running mean and std of concat(u, delta) per weight shape: groups.{g}.count/mean/m2 in " +
                            std::string(kMendWeightsFile)},
      {"base", {{"dir", base.dir().string()}, {"weights_sha256", base.loaded().weights_sha256},
                {"model_type", c.model_type}, {"n_layers", c.n_layers}, {"d_model", c.d_model}, {"d_mlp", c.d_mlp}}},
      {"training", training}};
  const auto tensors = net.named_tensors();
  write_directory_atomic(dir, [&](const fs::path& tmp) {
    harness::write_safetensors(tmp / kMendWeightsFile, tensors, {{"format", kMendFormat}, {"version", "1"}});
    std::ofstream(tmp / kMendConfigFile, std::ios::binary) << j.dump(2) << "\n";
    harness::write_output_marker(tmp, harness::kMendEditorOutput);
  });
}

MendEditor read_mend_editor(const fs::path& dir, const harness::TextModel& tm) {
  if (!fs::is_directory(dir)) {
    throw InputError(dir.string(), "", "a MEND editor directory", fs::exists(dir) ? "not a directory" : "missing",
                     "train one with `editgate mend train --model DIR --requests FILE --out DIR`");
  }
  const auto config_path = dir / kMendConfigFile;
  const nlohmann::json j = harness::read_json_file(config_path, "a readable " + std::string(kMendConfigFile));
  if (!j.is_object()) throw InputError(config_path.string(), "", "a JSON object", j.type_name());
  const auto field = [&](const char* key) -> const nlohmann::json& {
    if (!j.contains(key)) throw InputError(config_path.string(), key, "present", "missing");
    return j[key];
  };
  if (field("format") != kMendFormat) throw InputError(config_path.string(), "format", kMendFormat, field("format").dump());
  if (field("version") != 1) throw InputError(config_path.string(), "version", "1", field("version").dump());
  const std::string source = config_path.string() + ": hparams";
  auto h = parse_mend_hparams(field("hparams"), source);
  auto net = make_mend_network(tm, h, 0, source);
  const auto f = harness::SafetensorsFile::open(dir / kMendWeightsFile);
  std::map<std::string, at::Tensor> tensors;
  for (const auto& t : f->tensors()) tensors[t.name] = f->tensor(t.name);
  net.load_tensors(tensors, (dir / kMendWeightsFile).string());
  return {std::move(h), std::move(j), std::move(net)};
}

}  // namespace editgate::editors
