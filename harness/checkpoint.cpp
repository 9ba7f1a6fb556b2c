#include "harness/checkpoint.h"
#include "harness/file_io.h"

#include <ATen/ATen.h>

#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "harness/atomic_file.h"
#include "harness/output_guard.h"
#include "harness/device.h"
#include "harness/gguf_model.h"
#include "harness/input_error.h"
#include "harness/codebook_adapter.h"
#include "harness/steering_adapter.h"
#include "harness/safetensors_reader.h"
#include "harness/sha256.h"
#include "harness/weight_store.h"

namespace editgate::harness {
namespace fs = std::filesystem;
namespace {

// Old GPT-2 checkpoints (and some conversions) name tensors without the
// "transformer." prefix: h.0.attn.c_attn.weight, wte.weight, ln_f.bias.
std::string canonical_name(const ModelConfig& config, const std::string& name) {
  if (config.model_type == "gpt2" && !name.starts_with("transformer.") && !name.starts_with("lm_head.")) {
    return "transformer." + name;
  }
  return name;
}

bool is_floating(at::ScalarType t) { return at::isFloatingType(t); }

// The file to name in a message about tensor `name`: the shard holding it, else
// model.safetensors or, for a sharded checkpoint, its index.
std::string file_for(const WeightStore& store, const std::string& name) {
  for (const auto& f : store.files()) {
    if (f->find(name) != nullptr) return f->path().string();
  }
  const auto single = store.dir() / kSingleWeightsFile;
  return (fs::exists(single) ? single : store.dir() / kWeightsIndexFile).string();
}

}  // namespace

namespace {

// Where a checkpoint's tensors come from: names as stored, each tensor on
// demand, and the file to name in a message about one.
struct TensorSource {
  std::vector<std::string> names;
  std::function<at::Tensor(const std::string&)> get;
  std::function<std::string(const std::string&)> where;
};

// Checks the tensors against what the architecture expects (names, shapes,
// dtypes, finiteness) and builds the model on the requested device and dtype.
LoadedModel assemble_model(ModelConfig config, const TensorSource& source, const LoadOptions& options) {
  const at::Device device = resolve_device(options.device);
  // Build the architecture with no parameters first, only to ask what it expects.
  auto probe = make_transformer(config, {}, at::kCPU);
  const auto expected = probe->expected_tensors();

  std::map<std::string, at::Tensor> params;
  at::ScalarType stored = at::kFloat;
  for (const auto& file_name : source.names) {
    const std::string name = canonical_name(config, file_name);
    const auto it = expected.find(name);
    if (it == expected.end()) {
      if (probe->is_optional_tensor(name)) continue;
      throw InputError(source.where(file_name), "tensor '" + file_name + "'",
                       "only tensors of a " + config.model_type + " model with the shapes config.json gives",
                       "an unexpected tensor", "does config.json's model_type match the weights?");
    }
    if (name == "lm_head.weight" && config.tie_word_embeddings) continue;  // tied: use the embedding
    at::Tensor t = source.get(file_name);
    if (t.sizes().vec() != it->second) {
      throw InputError(source.where(file_name), "tensor '" + file_name + "'",
                       "shape " + shape_text(it->second) + " (from config.json)", "shape " + shape_text(t.sizes()));
    }
    if (!is_floating(t.scalar_type())) {
      throw InputError(source.where(file_name), "tensor '" + file_name + "'", "a floating-point dtype",
                       std::string(c10::toString(t.scalar_type())));
    }
    stored = t.scalar_type();
    if (options.check_finite && !at::isfinite(t.to(at::kFloat)).all().item<bool>()) {
      throw InputError(source.where(file_name), "tensor '" + file_name + "'", "finite values", "NaN or Inf",
                       "the checkpoint is damaged; do not ship it");
    }
    params[name] = t;
  }
  for (const auto& [name, shape] : expected) {
    if (params.count(name) == 0 && !probe->is_optional_tensor(name)) {
      throw InputError(source.where(name), "tensor '" + name + "'", "present with shape " + shape_text(shape),
                       "missing");
    }
  }

  const at::ScalarType compute = resolve_compute_dtype(device, options.dtype, stored);
  for (auto& [name, t] : params) t = t.to(device, compute).contiguous().clone();  // own the memory, off the mapping

  LoadedModel out;
  out.model = make_transformer(std::move(config), std::move(params), device);
  out.stored_dtype = stored;
  return out;
}

}  // namespace

LoadedModel load_model(const fs::path& dir, const LoadOptions& options) {
  if (is_gguf_file(dir)) return load_gguf_model(GgufCheckpoint::open(dir), options);
  ModelConfig config = ModelConfig::load(dir);
  const WeightStore store = WeightStore::open_dir(dir);
  const TensorSource source{store.names(), [&](const std::string& name) { return store.get(name); },
                            [&](const std::string& name) { return file_for(store, name); }};
  LoadedModel out = assemble_model(std::move(config), source, options);
  out.weights_sha256 = store.sha256();
  out.dir = dir;
  return out;
}

LoadedModel load_gguf_model(const GgufCheckpoint& ck, const LoadOptions& options) {
  ModelConfig config = ModelConfig::from_json(ck.config(), ck.path().string() + " (config from its metadata)");
  const std::string where = ck.path().string();
  const TensorSource source{ck.names(), [&](const std::string& name) { return ck.tensor(name); },
                            [&](const std::string& name) { return where + " (" + ck.gguf_name(name) + ")"; }};
  LoadedModel out = assemble_model(std::move(config), source, options);
  // Dequantised weights are f32: the fingerprint is that of the f32 HF checkpoint
  // this model saves to, so edits and audits of the saved copy line up with it.
  out.weights_sha256 = parameters_sha256(*out.model, at::kFloat);
  out.dir = ck.path();
  out.companion_files = ck.companion_files();
  out.source_format = "gguf";
  return out;
}

namespace {

std::vector<std::pair<std::string, at::Tensor>> tensors_to_save(const Transformer& model, at::ScalarType dtype) {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const auto& [name, t] : model.parameters()) {
    out.emplace_back(name, t.detach().to(at::kCPU, dtype).contiguous());
  }
  return out;
}

}  // namespace

void save_model(const Transformer& model, const fs::path& out_dir, const fs::path& source_dir,
                at::ScalarType dtype, const std::map<std::string, std::string>& extra_files) {
  const auto tensors = tensors_to_save(model, dtype);
  write_directory_atomic(out_dir, [&](const fs::path& tmp) {
    if (!source_dir.empty() && fs::is_directory(source_dir)) {
      for (const auto& entry : fs::directory_iterator(source_dir)) {
        const std::string name = entry.path().filename().string();
        const bool weights = name.starts_with("model") && name.find(".safetensors") != std::string::npos;
        if (!entry.is_regular_file() || weights || name == "config.json" || extra_files.count(name)) continue;
        // Both describe the source's edit, not this checkpoint (a GRACE codebook
        // is written again by the editor that keeps it).
        if (name == "edit_manifest.json" || name == kCodebookFile || name == kSteeringFile) continue;
        if (name == kOutputMarkerFile) continue;  // the writer's own marker says what this output is
        fs::copy_file(entry.path(), tmp / name);
      }
    }
    write_file_checked(tmp / "config.json", model.config().raw.dump(2) + "\n");
    write_weights(tmp, tensors);
    for (const auto& [name, bytes] : extra_files) {
      const fs::path file = tmp / name;  // names may contain folders ("requests/edits.json")
      fs::create_directories(file.parent_path());
      write_file_checked(file, bytes);
    }
  });
}

std::string parameters_sha256(const Transformer& model, at::ScalarType dtype) {
  // Same byte stream as WeightStore::sha256 (name, dtype, shape, data per tensor,
  // sorted by name), so a model's hash equals the hash of the checkpoint it saves to.
  Sha256 hasher;
  static constexpr char kNul = '\0';
  for (const auto& [name, t] : tensors_to_save(model, dtype)) {
    hasher.update(name);
    hasher.update(&kNul, 1);
    hasher.update(find_safetensors_dtype(t.scalar_type())->name);
    hasher.update(&kNul, 1);
    std::string shape = "[";
    for (int64_t i = 0; i < t.dim(); ++i) shape += (i ? "," : "") + std::to_string(t.size(i));
    hasher.update(shape + "]");
    hasher.update(&kNul, 1);
    hasher.update(static_cast<const char*>(t.data_ptr()), t.nbytes());
  }
  return hasher.hex_digest();
}

}  // namespace editgate::harness
