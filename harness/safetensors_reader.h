#pragma once
// SafetensorsFile: one .safetensors file, memory-mapped and validated in full at
// open (header length, JSON, every entry, offsets covering the data buffer with
// no overlap and no hole), so later reads never need a bounds check. This unit
// owns the file format and the mapping's lifetime; sharded checkpoints
// (weight_store.h), writing (safetensors_writer.h) and the meaning of tensor
// names belong to others.
//
// Format (huggingface/safetensors): u64 little-endian header length N, N bytes
// of UTF-8 JSON {"name": {"dtype", "shape", "data_offsets": [begin, end]},
// "__metadata__": {str: str}}, then the data buffer; offsets are relative to it.

#include <ATen/core/Tensor.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace editgate::harness {

// One safetensors dtype: its header name, its width in bits, and the libtorch
// type that holds it, when there is one (F4 and F6_* have none).
struct SafetensorsDtype {
  std::string_view name;                    // "F32", "BF16", "F8_E4M3", ...
  uint32_t bits = 0;                        // 1..64; F4 is 4, F6_* are 6
  std::optional<at::ScalarType> scalar_type;
};

// The dtype named `name` in a header, or nullptr when safetensors has none.
const SafetensorsDtype* find_safetensors_dtype(std::string_view name);
// The safetensors dtype for a libtorch type, or nullptr when it cannot be stored.
const SafetensorsDtype* find_safetensors_dtype(at::ScalarType type);
// Every dtype name safetensors defines, comma-separated, for error messages.
std::string safetensors_dtype_names();

struct TensorInfo {
  std::string name;
  std::string dtype_name;      // "F32", "BF16", ... as written in the header
  std::vector<int64_t> shape;  // row-major; empty for a 0-rank tensor
  uint64_t begin = 0, end = 0; // byte offsets within the data buffer, [begin, end)
};

class SafetensorsFile : public std::enable_shared_from_this<SafetensorsFile> {
 public:
  // Maps and validates `path`; throws InputError naming the file, the field or
  // tensor, what was expected and what was found.
  static std::shared_ptr<const SafetensorsFile> open(const std::filesystem::path& path);

  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  // All tensors, sorted by name.
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  // nullptr if the file has no tensor `name`.
  const TensorInfo* find(std::string_view name) const;

  // CPU tensor of the stored dtype and shape. When the data is aligned to the
  // element size it aliases the mapping (zero-copy; the tensor's deleter keeps
  // the mapping alive after this object is gone), otherwise it is a copy.
  // The mapping is private copy-on-write: writing into an aliased tensor never
  // reaches the file, but later tensor() calls on this object see the write;
  // clone() before editing in place if the original is needed again.
  // Throws InputError for a missing name or a dtype libtorch cannot hold (F4, F6_*).
  at::Tensor tensor(std::string_view name) const;

  // The raw little-endian bytes of tensor `name` (any dtype), valid while this
  // object lives. Throws InputError for a missing name.
  std::span<const std::byte> bytes(std::string_view name) const;

  // "__metadata__" (empty when absent).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  SafetensorsFile() = default;
  const TensorInfo& require(std::string_view name) const;

  std::filesystem::path path_;
  std::byte* map_ = nullptr;      // whole file, mmap'ed MAP_PRIVATE; null for none
  size_t map_size_ = 0;           // file size in bytes
  size_t data_start_ = 0;         // 8 + header length: where the data buffer starts
  std::vector<TensorInfo> tensors_;             // sorted by name
  std::map<std::string, std::string> metadata_; // "__metadata__"
};

}  // namespace editgate::harness
