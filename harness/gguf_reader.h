#pragma once
// GgufFile: one GGUF file (llama.cpp's single-file model format, versions 2 and
// 3), memory-mapped and validated in full at open: header, every metadata
// key-value pair (all value types, nested arrays included), every tensor info,
// the alignment and the data offsets, each count, length, offset and dimension
// checked against the file before it is used, so later reads need no bounds
// check. This unit owns the container format only; turning ggml block types
// into floats is gguf_dequant.h's job, and what the names and keys mean
// (architectures, tokenizers) is gguf_model.h's.
//
// Format (ggml docs/gguf.md), little-endian: "GGUF", u32 version, u64 tensor
// count, u64 metadata count; metadata as (string key, u32 type, value); tensor
// infos as (string name, u32 n_dims, u64 ne[n_dims], u32 ggml type, u64 offset);
// padding to `general.alignment` (default 32); the data section, tensor offsets
// relative to its start. A string is a u64 length plus that many bytes.

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

// Metadata value types (gguf_type in ggml/include/gguf.h).
enum class GgufValueType : uint32_t {
  kUint8 = 0, kInt8 = 1, kUint16 = 2, kInt16 = 3, kUint32 = 4, kInt32 = 5, kFloat32 = 6,
  kBool = 7, kString = 8, kArray = 9, kUint64 = 10, kInt64 = 11, kFloat64 = 12,
};
std::string_view to_string(GgufValueType type);

// One metadata value. Integers of every width are held in `i` (unsigned ones
// that fit) or `u`; floats in `f`. Arrays hold their items, each typed `elem`.
struct GgufValue {
  GgufValueType type = GgufValueType::kUint8;
  int64_t i = 0;          // signed integers, bool (0/1), unsigned up to 2^63-1
  uint64_t u = 0;         // unsigned integers (same value as i when it fits)
  double f = 0;           // float32 / float64
  std::string s;          // string
  GgufValueType elem = GgufValueType::kUint8;  // array: type of the items
  std::vector<GgufValue> items;                // array items

  bool is_integer() const;  // any of the eight integer types
  bool is_float() const { return type == GgufValueType::kFloat32 || type == GgufValueType::kFloat64; }
};

struct GgufTensorInfo {
  std::string name;
  std::vector<uint64_t> ne;  // ggml order: ne[0] is the contiguous (innermost) dimension
  uint32_t type = 0;         // ggml_type (see gguf_dequant.h)
  uint64_t offset = 0;       // relative to the data section, a multiple of the alignment
  uint64_t nbytes = 0;       // computed from ne and the type's block size
  // Row-major torch shape: ne reversed ([ne[n-1], ..., ne[0]]).
  std::vector<int64_t> torch_shape() const;
  uint64_t numel() const;
};

class GgufFile : public std::enable_shared_from_this<GgufFile> {
 public:
  // Maps and validates `path`; throws InputError naming the file, the field
  // (metadata key or tensor), what was expected and what was found.
  static std::shared_ptr<const GgufFile> open(const std::filesystem::path& path);

  ~GgufFile();
  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;

  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  const std::filesystem::path& path() const { return path_; }

  // Metadata in file order, and lookup by key (nullptr when absent).
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return metadata_; }
  const GgufValue* find(std::string_view key) const;

  // Typed metadata getters: InputError naming the key when absent (unless a
  // fallback is given) or of another type.
  uint64_t get_uint(std::string_view key, std::optional<uint64_t> fallback = std::nullopt) const;
  double get_float(std::string_view key, std::optional<double> fallback = std::nullopt) const;
  bool get_bool(std::string_view key, std::optional<bool> fallback = std::nullopt) const;
  std::string get_string(std::string_view key, std::optional<std::string> fallback = std::nullopt) const;
  // An array whose items are all of `elem`; InputError otherwise.
  const std::vector<GgufValue>& get_array(std::string_view key, GgufValueType elem) const;

  // Tensor infos in file order, and lookup by name (nullptr when absent).
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(std::string_view name) const;
  // The tensor's bytes inside the mapping, valid while this object lives.
  std::span<const std::byte> bytes(const GgufTensorInfo& info) const;

 private:
  GgufFile() = default;

  std::filesystem::path path_;
  std::byte* map_ = nullptr;  // whole file, mmap'ed read-only; null for none
  size_t map_size_ = 0;       // file size in bytes
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_start_ = 0;   // absolute offset of the data section
  std::vector<std::pair<std::string, GgufValue>> metadata_;  // in file order
  std::map<std::string, size_t, std::less<>> metadata_index_;  // key -> index in metadata_
  std::vector<GgufTensorInfo> tensors_;                        // in file order
  std::map<std::string, size_t, std::less<>> tensor_index_;    // name -> index in tensors_
};

}  // namespace editgate::harness
