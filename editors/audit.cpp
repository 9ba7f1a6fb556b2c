#include "editors/audit.h"
#include "harness/file_io.h"

#include <fmt/format.h>

#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <span>

#include "editors/edit_manifest.h"
#include "harness/checkpoint.h"
#include "harness/codebook_adapter.h"
#include "harness/gguf_model.h"
#include "harness/safetensors_reader.h"
#include "harness/steering_adapter.h"
#include "harness/sha256.h"
#include "harness/weight_store.h"

namespace editgate::editors {
namespace {

// The base side of the comparison. A checkpoint directory is read as stored; a
// GGUF file as the f32 model it loads as (dequantised, under HF names): that is
// what an edit of it saves, and what the manifest's base sha256 fingerprints.
class BaseWeights {
 public:
  explicit BaseWeights(const std::filesystem::path& base) {
    if (!harness::is_gguf_file(base)) {
      store_ = harness::WeightStore::open_dir(base);
      sha256_ = store_->sha256();
      return;
    }
    harness::LoadOptions o;
    o.device = "cpu";
    o.dtype = "f32";
    const auto loaded = harness::load_model(base, o);
    for (const auto& [name, t] : loaded.model->parameters()) f32_.emplace(name, t.detach().cpu().contiguous());
    sha256_ = loaded.weights_sha256;
  }
  const std::string& sha256() const { return sha256_; }
  std::vector<std::string> names() const {
    if (store_) return store_->names();
    std::vector<std::string> out;
    for (const auto& [name, t] : f32_) out.push_back(name);
    return out;
  }
  std::vector<int64_t> shape(const std::string& name) const {
    return store_ ? store_->info(name).shape : f32_.at(name).sizes().vec();
  }
  std::string dtype_name(const std::string& name) const { return store_ ? store_->info(name).dtype_name : "F32"; }
  std::span<const std::byte> bytes(const std::string& name) const {
    if (store_) return store_->bytes(name);
    const auto& t = f32_.at(name);
    return {static_cast<const std::byte*>(t.data_ptr()), t.nbytes()};
  }
  at::Tensor get(const std::string& name) const { return store_ ? store_->get(name) : f32_.at(name); }

 private:
  std::optional<harness::WeightStore> store_;
  std::map<std::string, at::Tensor> f32_;
  std::string sha256_;
};

// The codebook the manifest declares: present, the bytes it hashed, its size.
void audit_adapter(const std::filesystem::path& dir, const nlohmann::ordered_json& declared, AuditResult& r) {
  if (declared.is_null()) {
    for (const char* name : {harness::kCodebookFile, harness::kSteeringFile}) {
      if (std::filesystem::exists(dir / name)) {
        r.problems.push_back(fmt::format("{} is present but the manifest declares no adapter", (dir / name).string()));
      }
    }
    return;
  }
  const auto file = dir / declared["file"].get<std::string>();
  r.adapter = {{"kind", declared["kind"]}, {"file", file.string()}, {"layer", declared.value("layer", int64_t{-1})}};
  if (!std::filesystem::exists(file)) {
    r.problems.push_back(fmt::format("the manifest's adapter file {} is missing", file.string()));
    return;
  }
  const auto f = harness::SafetensorsFile::open(file);
  if (declared["kind"] == harness::kCodebookAdapterKind) {
    const auto* keys = f->find("keys");
    r.adapter["entries"] = keys != nullptr && !keys->shape.empty() ? keys->shape[0] : int64_t{0};
  } else {
    for (const char* k : {"hook", "scale"}) {
      if (const auto it = f->metadata().find(k); it != f->metadata().end()) r.adapter[k] = it->second;
    }
  }
  const auto& sha = declared.contains("sha256") ? declared["sha256"] : nlohmann::ordered_json();
  const bool matches = sha.is_null() || (sha.is_string() && sha.get<std::string>() == harness::file_sha256(file));
  r.adapter["sha256_matches"] = matches;
  if (!matches) r.problems.push_back(fmt::format("adapter {}: sha256 is not the one the manifest recorded", file.string()));
  if (declared.contains("entries") && declared["entries"] != r.adapter["entries"]) {
    r.problems.push_back(fmt::format("adapter {}: {} entries, the manifest declares {}", file.string(),
                                     r.adapter["entries"].dump(), declared["entries"].dump()));
  }
}

}  // namespace

AuditResult audit_checkpoints(const std::filesystem::path& base_dir, const std::filesystem::path& edited_dir) {
  const BaseWeights base(base_dir);
  const auto edited = harness::WeightStore::open_dir(edited_dir);
  AuditResult r;
  r.base_weights_sha256 = base.sha256();
  r.edited_weights_sha256 = edited.sha256();

  std::optional<EditManifest> manifest;
  const auto manifest_path = edited_dir / kManifestFile;
  if (std::filesystem::exists(manifest_path)) {
    manifest = load_manifest(manifest_path);
    r.manifest_found = true;
    r.method = manifest->method;
    if (manifest->base_weights_sha256 != r.base_weights_sha256) {
      r.problems.push_back(fmt::format("the manifest's base weights sha256 {} is not the base's {}: edited from another base",
                                       manifest->base_weights_sha256.substr(0, 16), r.base_weights_sha256.substr(0, 16)));
    }
    if (!manifest->edited_weights_sha256.empty() && manifest->edited_weights_sha256 != r.edited_weights_sha256) {
      r.problems.push_back("the edited weights' sha256 is not the one the manifest recorded: modified after the edit");
    }
  } else {
    r.problems.push_back(fmt::format("{} is missing: no change is declared", manifest_path.string()));
  }
  audit_adapter(edited_dir, manifest ? manifest->adapter : nlohmann::ordered_json(), r);
  std::map<std::string, const ChangedTensor*> declared;
  if (manifest) {
    for (const auto& t : manifest->tensors) declared[t.name] = &t;
  }

  const auto base_names = base.names(), edited_names = edited.names();
  const std::set<std::string> in_base(base_names.begin(), base_names.end());
  for (const auto& n : edited_names) {
    if (!in_base.count(n)) r.problems.push_back(fmt::format("tensor '{}' is in the edited checkpoint only", n));
  }
  for (const auto& name : base_names) {
    if (!edited.contains(name)) {
      r.problems.push_back(fmt::format("tensor '{}' is missing from the edited checkpoint", name));
      continue;
    }
    const auto& ei = edited.info(name);
    if (base.shape(name) != ei.shape || base.dtype_name(name) != ei.dtype_name) {
      r.problems.push_back(fmt::format("tensor '{}' changed shape or dtype", name));
      continue;
    }
    ++r.tensors_compared;
    const auto bb = base.bytes(name), eb = edited.bytes(name);
    const auto it = declared.find(name);
    if (bb.size() == eb.size() && std::memcmp(bb.data(), eb.data(), bb.size()) == 0) {
      if (it != declared.end()) r.declared_unchanged.push_back(name);
      continue;
    }
    AuditedTensor t;
    t.name = name;
    t.measured = analyze_delta(base.get(name), edited.get(name));
    if (it == declared.end()) {
      r.problems.push_back(fmt::format("tensor '{}' changed (|delta|_F {:.4g}, rank {}) but the manifest does not declare it",
                                       name, t.measured.frobenius, t.measured.rank));
    } else {
      t.declared = true;
      t.declared_rank = it->second->delta.rank;
      if (t.measured.rank > t.declared_rank) {
        r.problems.push_back(fmt::format("tensor '{}': measured rank {} exceeds the declared rank {}", name,
                                         t.measured.rank, t.declared_rank));
      }
      if (!it->second->sha256_after.empty()) {
        const auto sha = harness::sha256_hex(std::string_view(reinterpret_cast<const char*>(eb.data()), eb.size()));
        t.sha256_matches = sha == it->second->sha256_after;
        if (!t.sha256_matches) {
          r.problems.push_back(fmt::format("tensor '{}': sha256 {} is not the declared {}", name, sha.substr(0, 16),
                                           it->second->sha256_after.substr(0, 16)));
        }
      }
    }
    r.changed.push_back(std::move(t));
  }
  return r;
}

nlohmann::ordered_json to_json(const AuditResult& r) {
  nlohmann::ordered_json changed = nlohmann::ordered_json::array();
  for (const auto& t : r.changed) {
    nlohmann::ordered_json j = {{"name", t.name}, {"declared", t.declared}};
    j.update(to_json(t.measured));
    j["declared_rank"] = t.declared_rank;
    j["sha256_matches"] = t.sha256_matches;
    changed.push_back(j);
  }
  return {{"verdict", r.pass() ? "pass" : "fail"},
          {"manifest_found", r.manifest_found},
          {"method", r.method},
          {"base_weights_sha256", r.base_weights_sha256},
          {"edited_weights_sha256", r.edited_weights_sha256},
          {"tensors_compared", r.tensors_compared},
          {"rank_rule", rank_rule_text()},
          {"changed_tensors", changed},
          {"adapter", r.adapter},
          {"declared_unchanged", r.declared_unchanged},
          {"problems", r.problems}};
}

}  // namespace editgate::editors
