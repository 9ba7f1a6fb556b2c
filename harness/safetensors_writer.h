#pragma once
// write_safetensors: one .safetensors file from named tensors, written atomically
// (temp file, fsync, rename; atomic_file.h). This unit owns the byte layout the
// reference writer produces (safetensors >= 0.3.1): header JSON padded with
// spaces to a multiple of 8, tensors ordered by descending element size then
// name, so every tensor is aligned to its element size and readers can alias
// it. Sharding and index files belong to weight_store.h; reading to
// safetensors_reader.h.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace editgate::harness {

// Writes `tensors` (any device, any strides; CUDA or non-contiguous tensors are
// copied to contiguous CPU memory one at a time while writing) and `metadata`
// (the "__metadata__" object, omitted when empty) to `path`.
// Throws InputError naming `path` and the tensor for duplicate names, the name
// "__metadata__", undefined or sparse tensors, and dtypes safetensors cannot
// store (e.g. ComplexDouble, quantized types); `path` is then left untouched.
void write_safetensors(const std::filesystem::path& path,
                       const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// A tensor too large to hold whole (e.g. `erase`'s X_erased): the header needs
// only its name, dtype and shape, and `produce` computes its rows in order while
// the file is written, so only one chunk of it is ever in memory.
struct StreamedTensor {
  std::string name;
  at::ScalarType dtype = at::kFloat;
  std::vector<int64_t> shape;
  // Must call `write` with consecutive chunks along dim 0 (`dtype`, any device,
  // the trailing dims of `shape`) that together cover the tensor exactly; a
  // mismatch is a programming error (c10::Error) and leaves `path` untouched.
  std::function<void(const std::function<void(const at::Tensor&)>& write)> produce;
};

// As above, plus `streamed` tensors laid out among the others by the same rule.
void write_safetensors(const std::filesystem::path& path,
                       const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                       const std::vector<StreamedTensor>& streamed,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace editgate::harness
