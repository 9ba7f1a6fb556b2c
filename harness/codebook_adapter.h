#pragma once
// GRACE codebook adapter (Hartvigsen et al. 2023) at inference: a codebook of
// (key, value, radius) entries at one layer's MLP output projection W_out. At
// every token position the layer's input (blocks.{l}.mlp.hook_post) is compared
// with the keys; when the nearest key lies within its radius, the entry's value
// replaces the layer's output (blocks.{l}.hook_mlp_out) at that position. The
// base weights are never touched: an empty codebook, or one no position hits,
// leaves every activation bit for bit as it was. Everything goes through the
// hook registry.
//
// This unit owns the codebook type, its file (grace_codebook.safetensors) and
// installing it; building a codebook (which keys, radius rules, training the
// values) is editors/grace.h's job.
//
// File: tensors "keys" F32 [n, d_mlp], "values" F32 [n, d_model], "radii" F32 [n];
// __metadata__ "format" = "editgate.grace_codebook", "version" = "1", "layer",
// "labels" (JSON array of n strings) and "case_ids" (JSON array of n arrays).

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "harness/hooks.h"
#include "harness/model_config.h"

namespace editgate::harness {

class Transformer;

inline constexpr const char* kCodebookFile = "grace_codebook.safetensors";
inline constexpr const char* kCodebookFormat = "editgate.grace_codebook";
inline constexpr const char* kCodebookAdapterKind = "grace_codebook";  // edit_manifest.json "adapter.kind"

struct Codebook {
  int64_t layer = 0;
  at::Tensor keys;    // [n, d_mlp] float32, CPU: blocks.{layer}.mlp.hook_post at an edit's last prompt token
  at::Tensor values;  // [n, d_model] float32, CPU: what replaces blocks.{layer}.hook_mlp_out on a hit
  at::Tensor radii;   // [n] float32, CPU: epsilon of each key (Euclidean distance)
  std::vector<std::string> labels;                 // [n] what each value answers (the edit's target)
  std::vector<std::vector<std::string>> case_ids;  // [n] the edits each entry serves

  /// An empty codebook for `config` at `layer`.
  static Codebook empty(const ModelConfig& config, int64_t layer);
  int64_t size() const { return keys.defined() ? keys.size(0) : 0; }
  /// Throws InputError naming `source` when shapes, layer or labels disagree with each other or `config`.
  void check(const ModelConfig& config, const std::string& source) const;
};

/// For each row of `queries` [m, d_mlp] (any device and float dtype): the
/// index of the nearest key when the distance is within that key's radius,
/// else -1. [m] int64 on the queries' device. The codebook is on the same device.
at::Tensor codebook_hits(const Codebook& on_device, const at::Tensor& queries);

/// Reads a codebook file; InputError naming the file and field for anything
/// missing or malformed, and for shapes that do not fit `config`.
Codebook read_codebook(const std::filesystem::path& path, const ModelConfig& config);
/// Writes it atomically.
void write_codebook(const std::filesystem::path& path, const Codebook& codebook);

/// A codebook installed in a model: two hooks at its layer that live as long
/// as this object (and the model: destroy the adapter first).
class CodebookAdapter {
 public:
  CodebookAdapter(Transformer& model, Codebook codebook);
  const Codebook& codebook() const { return codebook_; }  // CPU copy, as given

 private:
  Codebook codebook_;
  std::vector<HookHandle> hooks_;  // key lookup at mlp.hook_post, replacement at hook_mlp_out
};

}  // namespace editgate::harness
