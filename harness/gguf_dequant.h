#pragma once
// ggml tensor types and their dequantisation to f32, block by block, with the
// arithmetic of ggml's reference dequantize_row_* (ggml-quants.c) so results
// equal the gguf package's numpy dequantisation bit for bit. This unit owns the
// block layouts; reading the container is gguf_reader.h's job.
//
// Dequantised: F32, F16, BF16, F64, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K,
// Q6_K. Other types (the i-quants, Q2_K, Q3_K, ternary, MXFP4) are known by
// name and size, so files holding them open, but reading one is an InputError.

#include <ATen/core/Tensor.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace editgate::harness {

class GgufFile;
struct GgufTensorInfo;

struct GgmlType {
  uint32_t id = 0;             // ggml_type value stored in the file
  std::string_view name;       // "Q4_K", as gguf.GGMLQuantizationType names it
  uint32_t block_size = 1;     // elements per block (ne[0] must be a multiple)
  uint32_t type_size = 0;      // bytes per block
  bool dequantizable = false;  // dequantize_row handles it
};

// The type with ggml id `id`, or nullptr when ggml defines none.
const GgmlType* find_ggml_type(uint32_t id);
// The names of the dequantisable types, comma-separated, for messages.
std::string dequantizable_type_names();

// Writes `count` floats decoded from `bytes` (count / block_size blocks of
// `type`) to `out`. TORCH_CHECKs that count is whole blocks and bytes is the
// exact size: callers validate files first (GgufFile::open does).
void dequantize_row(const GgmlType& type, std::span<const std::byte> bytes, float* out, size_t count);

// The tensor as a contiguous f32 CPU tensor of its torch shape; InputError
// naming the file and tensor when its type is not dequantisable.
at::Tensor dequantize_tensor(const GgufFile& file, const GgufTensorInfo& info);

}  // namespace editgate::harness
