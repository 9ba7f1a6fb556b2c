#pragma once
// WeightStore: every tensor of a Hugging Face checkpoint directory, from
// model.safetensors or a sharded model.safetensors.index.json, with every shard
// opened and validated and the index checked against the shards' contents.
// It owns name -> (file, entry) lookup and the layout-independent weights
// fingerprint; the file format is safetensors_reader.h's, and what the tensors
// mean (architectures, config.json) belongs to the model runtime.
//
// write_weights writes the same layout back: one file, or HF-style shards plus
// the index.

#include <ATen/core/Tensor.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "harness/safetensors_reader.h"

namespace editgate::harness {

inline constexpr std::string_view kSingleWeightsFile = "model.safetensors";
inline constexpr std::string_view kWeightsIndexFile = "model.safetensors.index.json";

class WeightStore {
 public:
  // Opens `dir`/model.safetensors or, when absent, `dir`/model.safetensors.index.json
  // ({"metadata": {...}, "weight_map": {tensor: shard file}}) and every shard it names.
  // Throws InputError (naming the index file and the tensor) for a missing shard,
  // a shard lacking a tensor the index puts there, a tensor in two shards or a
  // tensor the index does not list; and for a directory with neither file.
  static WeightStore open_dir(const std::filesystem::path& dir);

  std::vector<std::string> names() const;  // sorted
  bool contains(std::string_view name) const;
  // Throws InputError naming the directory and the tensor for unknown names.
  const TensorInfo& info(std::string_view name) const;
  // CPU tensor as stored (see SafetensorsFile::tensor for aliasing).
  at::Tensor get(std::string_view name) const;
  // Raw little-endian bytes of any dtype, valid while this store (or a copy) lives.
  std::span<const std::byte> bytes(std::string_view name) const;

  // Weights fingerprint, independent of file layout and sharding: SHA-256 over, for
  // each tensor sorted by name: name, '\0', dtype name ("F32"), '\0', shape as
  // "[d0,d1,...]" in decimal ("[]" for 0-rank), '\0', raw little-endian bytes.
  // It hashes the bytes as currently mapped: in-place writes into aliased tensors
  // from get() show up here.
  std::string sha256() const;

  const std::filesystem::path& dir() const { return dir_; }
  // The opened files: one, or the shards in name order.
  const std::vector<std::shared_ptr<const SafetensorsFile>>& files() const { return files_; }

 private:
  struct Entry {
    const SafetensorsFile* file = nullptr;  // owned by files_
    const TensorInfo* info = nullptr;       // inside *file
  };
  const Entry& require(std::string_view name) const;
  void open_index(const std::filesystem::path& index);

  std::filesystem::path dir_;
  std::vector<std::shared_ptr<const SafetensorsFile>> files_;
  std::map<std::string, Entry, std::less<>> entries_;  // every tensor, by name
};

// Writes a checkpoint's weights into `dir` (created if needed): `dir`/model.safetensors
// when max_shard_bytes is 0 or everything fits in one shard, else shards
// model-0000k-of-0000n.safetensors of at most max_shard_bytes each (a larger tensor
// gets a shard of its own), filled in the given order, plus model.safetensors.index.json
// with {"metadata": {"total_size"}, "weight_map"}. Each file is written atomically;
// weight files of an earlier layout in `dir` are removed so open_dir sees only
// the new one. Files carry {"format": "pt"} metadata, as transformers expects.
// For an all-or-nothing directory, call it inside write_directory_atomic.
void write_weights(const std::filesystem::path& dir,
                   const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                   uint64_t max_shard_bytes = 0);

}  // namespace editgate::harness
