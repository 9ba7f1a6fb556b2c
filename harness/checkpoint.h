#pragma once
// Checkpoint loading and saving: a HF model directory (config.json plus
// model.safetensors or a sharded index), or a GGUF file, becomes a Transformer on a device, and
// a Transformer becomes a directory again. This unit owns cross-checking the
// tensors against config.json, legacy GPT-2 names, dtype conversion and the
// non-finite check; reading bytes is weight_store.h's job.

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "harness/transformer.h"

namespace editgate::harness {

struct LoadOptions {
  std::string device = "auto";  // cpu | cuda | cuda:N | auto (see device.h)
  std::string dtype = "auto";   // auto | f32 | f16 | bf16
  bool check_finite = true;     // refuse NaN/Inf weights, naming the tensor
};

struct LoadedModel {
  std::unique_ptr<Transformer> model;
  std::filesystem::path dir;
  std::string weights_sha256;  // layout-independent fingerprint (weight_store.h)
  at::ScalarType stored_dtype = at::kFloat;  // dtype of the floating tensors in the files
  // "safetensors", or "gguf" for a GGUF file (dequantised to f32; dir is the file).
  std::string source_format = "safetensors";
  // Files a saved copy needs that the source has no directory for (a GGUF's
  // tokenizer.json and tokenizer_config.json, generated from its metadata): name -> bytes.
  std::map<std::string, std::string> companion_files;
};

class GgufCheckpoint;

// InputError naming the file and tensor for anything missing, extra, mis-shaped or non-finite.
// `dir` may also be a GGUF file (see gguf_model.h).
LoadedModel load_model(const std::filesystem::path& dir, const LoadOptions& options = {});
// The model of a GGUF file, dequantised to f32, checked like a directory's.
LoadedModel load_gguf_model(const GgufCheckpoint& checkpoint, const LoadOptions& options = {});

// Writes `model` as a HF checkpoint directory, atomically (temporary directory,
// then rename): config.json, model.safetensors in `dtype`, the non-weight files
// of `source_dir` (tokenizer, generation config), and `extra_files` (name -> bytes).
void save_model(const Transformer& model, const std::filesystem::path& out_dir,
                const std::filesystem::path& source_dir, at::ScalarType dtype = at::kFloat,
                const std::map<std::string, std::string>& extra_files = {});

// Layout-independent sha256 of a model's parameters as they would be saved in `dtype`.
std::string parameters_sha256(const Transformer& model, at::ScalarType dtype = at::kFloat);

}  // namespace editgate::harness
