#include "editors/edit_manifest.h"
#include "harness/json_file.h"


#include "harness/input_error.h"

namespace editgate::editors {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

const json& need(const json& j, const std::string& key, const std::string& path, bool (json::*is)() const noexcept,
                 const char* what) {
  const auto it = j.find(key);
  if (it == j.end()) throw InputError(path, key, what, "none");
  if (!((*it).*is)()) throw InputError(path, key, what, it->type_name());
  return *it;
}

}  // namespace

nlohmann::ordered_json to_json(const EditManifest& m) {
  ordered_json requests = ordered_json::array();
  for (const auto& r : m.requests) requests.push_back(to_counterfact_json(r));
  ordered_json tensors = ordered_json::array();
  for (const auto& t : m.tensors) {
    ordered_json jt = {{"name", t.name}, {"stable_name", t.stable_name}, {"shape", t.shape}, {"dtype", t.dtype}};
    jt.update(to_json(t.delta));
    jt["sha256_after"] = t.sha256_after;
    tensors.push_back(jt);
  }
  ordered_json out = {{"format", kManifestFormat},
          {"version", kManifestVersion},
          {"editgate_version", m.editgate_version},
          {"method", m.method},
          {"hparams", m.hparams},
          {"hparams_source", m.hparams_source},
          {"seed", m.seed},
          {"context_templates", m.context_templates},
          {"base", {{"dir", m.base_dir}, {"weights_sha256", m.base_weights_sha256}}},
          {"edited_weights_sha256", m.edited_weights_sha256},
          {"device", m.device},
          {"compute_dtype", m.compute_dtype},
          {"statistics", m.statistics},
          {"rank_rule", rank_rule_text()},
          {"changed_tensors", tensors},
          {"phase_seconds", m.phase_seconds},
          {"per_request", m.per_request},
          {"extra", m.extra},
          {"warnings", m.warnings},
          {"requests", requests}};
  if (!m.adapter.is_null()) out["adapter"] = m.adapter;
  return out;
}

EditManifest parse_manifest(const nlohmann::json& j, const std::string& path) {
  if (!j.is_object()) throw InputError(path, "", "a JSON object (edit manifest)", j.type_name());
  if (j.value("format", "") != kManifestFormat) {
    throw InputError(path, "format", std::string("\"") + kManifestFormat + "\"", j.contains("format") ? j["format"].dump() : "none");
  }
  if (!j.contains("version") || !j["version"].is_number_integer() || j["version"].get<int>() != kManifestVersion) {
    throw InputError(path, "version", std::to_string(kManifestVersion), j.contains("version") ? j["version"].dump() : "none");
  }
  EditManifest m;
  m.method = need(j, "method", path, &json::is_string, "a string").get<std::string>();
  m.editgate_version = j.value("editgate_version", "");
  m.seed = j.value("seed", uint64_t{0});
  const auto& base = need(j, "base", path, &json::is_object, "an object {dir, weights_sha256}");
  m.base_dir = base.value("dir", "");
  m.base_weights_sha256 = need(base, "weights_sha256", path + ": base", &json::is_string, "a string").get<std::string>();
  m.edited_weights_sha256 = j.value("edited_weights_sha256", "");
  if (j.contains("hparams")) m.hparams = j["hparams"];
  const auto& tensors = need(j, "changed_tensors", path, &json::is_array, "an array");
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& t = tensors[i];
    const std::string where = path + ": changed_tensors[" + std::to_string(i) + "]";
    if (!t.is_object()) throw InputError(where, "", "an object", t.type_name());
    ChangedTensor c;
    c.name = need(t, "name", where, &json::is_string, "a string").get<std::string>();
    c.stable_name = t.value("stable_name", "");
    c.delta.rank = need(t, "numerical_rank", where, &json::is_number_integer, "an integer").get<int64_t>();
    c.delta.frobenius = t.value("frobenius_norm", 0.0);
    c.delta.tolerance = t.value("rank_tolerance", 0.0);
    c.sha256_after = t.value("sha256_after", "");
    c.dtype = t.value("dtype", "");
    if (t.contains("shape") && t["shape"].is_array()) c.shape = t["shape"].get<std::vector<int64_t>>();
    m.tensors.push_back(std::move(c));
  }
  if (j.contains("requests") && j["requests"].is_array() && !j["requests"].empty()) m.requests = parse_counterfact_requests(j["requests"], path + ": requests");
  if (j.contains("adapter") && !j["adapter"].is_null()) {
    const auto& a = j["adapter"];
    need(a, "kind", path + ": adapter", &json::is_string, "a string");
    need(a, "file", path + ": adapter", &json::is_string, "a file name");
    m.adapter = a;
  }
  if (j.contains("warnings")) {
    need(j, "warnings", path, &json::is_array, "a list of strings");
    for (const auto& w : j["warnings"]) {
      if (!w.is_string()) throw InputError(path, "warnings", "a list of strings", w.type_name());
      m.warnings.push_back(w.get<std::string>());
    }
  }
  if (j.contains("context_templates")) m.context_templates = j["context_templates"].get<std::vector<std::string>>();
  return m;
}

EditManifest load_manifest(const std::filesystem::path& path) {
  return parse_manifest(harness::read_json_file(path, "a readable edit_manifest.json"), path.string());
}

}  // namespace editgate::editors
