#include "harness/gguf_dequant.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>

#include <cstring>

#include "harness/gguf_reader.h"
#include "harness/input_error.h"

namespace editgate::harness {
namespace {

// Every ggml_type (ggml/include/ggml.h; sizes from gguf.constants.GGML_QUANT_SIZES).
constexpr GgmlType kTypes[] = {
    {0, "F32", 1, 4, true},         {1, "F16", 1, 2, true},         {2, "Q4_0", 32, 18, true},
    {3, "Q4_1", 32, 20, true},      {6, "Q5_0", 32, 22, true},      {7, "Q5_1", 32, 24, true},
    {8, "Q8_0", 32, 34, true},      {9, "Q8_1", 32, 40, false},     {10, "Q2_K", 256, 84, false},
    {11, "Q3_K", 256, 110, false},  {12, "Q4_K", 256, 144, true},   {13, "Q5_K", 256, 176, true},
    {14, "Q6_K", 256, 210, true},   {15, "Q8_K", 256, 292, false},  {16, "IQ2_XXS", 256, 66, false},
    {17, "IQ2_XS", 256, 74, false}, {18, "IQ3_XXS", 256, 98, false}, {19, "IQ1_S", 256, 50, false},
    {20, "IQ4_NL", 32, 18, false},  {21, "IQ3_S", 256, 110, false}, {22, "IQ2_S", 256, 82, false},
    {23, "IQ4_XS", 256, 136, false}, {24, "I8", 1, 1, false},       {25, "I16", 1, 2, false},
    {26, "I32", 1, 4, false},       {27, "I64", 1, 8, false},       {28, "F64", 1, 8, true},
    {29, "IQ1_M", 256, 56, false},  {30, "BF16", 1, 2, true},       {34, "TQ1_0", 256, 54, false},
    {35, "TQ2_0", 256, 66, false},  {39, "MXFP4", 32, 17, false},
};

using u8 = uint8_t;

float f16(const u8* p) {
  uint16_t bits;
  std::memcpy(&bits, p, 2);
  return static_cast<float>(c10::Half(bits, c10::Half::from_bits()));
}

// Scale and min of sub-block j of a Q4_K/Q5_K block (ggml get_scale_min_k4):
// 8 pairs of 6-bit numbers packed into 12 bytes.
void scale_min_k4(int j, const u8* q, u8& sc, u8& m) {
  if (j < 4) {
    sc = q[j] & 63;
    m = q[j + 4] & 63;
  } else {
    sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

// One block each. The operation order follows ggml's dequantize_row_* (and the
// gguf package's numpy ports of them), so the floats agree bit for bit.
void q4_0(const u8* b, float* y) {
  const float d = f16(b);
  const u8* qs = b + 2;
  for (int j = 0; j < 16; ++j) {
    y[j] = static_cast<float>((qs[j] & 0xF) - 8) * d;
    y[j + 16] = static_cast<float>((qs[j] >> 4) - 8) * d;
  }
}

void q4_1(const u8* b, float* y) {
  const float d = f16(b), m = f16(b + 2);
  const u8* qs = b + 4;
  for (int j = 0; j < 16; ++j) {
    y[j] = static_cast<float>(qs[j] & 0xF) * d + m;
    y[j + 16] = static_cast<float>(qs[j] >> 4) * d + m;
  }
}

void q5_0(const u8* b, float* y) {
  const float d = f16(b);
  uint32_t qh;
  std::memcpy(&qh, b + 2, 4);
  const u8* qs = b + 6;
  for (int j = 0; j < 16; ++j) {
    const int h0 = ((qh >> j) << 4) & 0x10, h1 = (qh >> (j + 12)) & 0x10;
    y[j] = static_cast<float>(((qs[j] & 0xF) | h0) - 16) * d;
    y[j + 16] = static_cast<float>(((qs[j] >> 4) | h1) - 16) * d;
  }
}

void q5_1(const u8* b, float* y) {
  const float d = f16(b), m = f16(b + 2);
  uint32_t qh;
  std::memcpy(&qh, b + 4, 4);
  const u8* qs = b + 8;
  for (int j = 0; j < 16; ++j) {
    const int h0 = ((qh >> j) << 4) & 0x10, h1 = (qh >> (j + 12)) & 0x10;
    y[j] = static_cast<float>((qs[j] & 0xF) | h0) * d + m;
    y[j + 16] = static_cast<float>((qs[j] >> 4) | h1) * d + m;
  }
}

void q8_0(const u8* b, float* y) {
  const float d = f16(b);
  const auto* qs = reinterpret_cast<const int8_t*>(b + 2);
  for (int j = 0; j < 32; ++j) y[j] = static_cast<float>(qs[j]) * d;
}

void q4_k(const u8* b, float* y) {
  const float d = f16(b), dmin = f16(b + 2);
  const u8* scales = b + 4;
  const u8* q = b + 16;
  for (int j = 0, is = 0; j < 256; j += 64, is += 2, q += 32) {
    u8 sc, m;
    scale_min_k4(is, scales, sc, m);
    const float d1 = d * sc, m1 = dmin * m;
    scale_min_k4(is + 1, scales, sc, m);
    const float d2 = d * sc, m2 = dmin * m;
    for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>(q[l] & 0xF) - m1;
    for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>(q[l] >> 4) - m2;
  }
}

void q5_k(const u8* b, float* y) {
  const float d = f16(b), dmin = f16(b + 2);
  const u8* scales = b + 4;
  const u8* qh = b + 16;
  const u8* ql = b + 48;
  u8 u1 = 1, u2 = 2;
  for (int j = 0, is = 0; j < 256; j += 64, is += 2, ql += 32, u1 <<= 2, u2 <<= 2) {
    u8 sc, m;
    scale_min_k4(is, scales, sc, m);
    const float d1 = d * sc, m1 = dmin * m;
    scale_min_k4(is + 1, scales, sc, m);
    const float d2 = d * sc, m2 = dmin * m;
    for (int l = 0; l < 32; ++l) *y++ = d1 * static_cast<float>((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
    for (int l = 0; l < 32; ++l) *y++ = d2 * static_cast<float>((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
  }
}

void q6_k(const u8* b, float* y) {
  const u8* ql = b;
  const u8* qh = b + 128;
  const auto* sc = reinterpret_cast<const int8_t*>(b + 192);
  const float d = f16(b + 208);
  for (int n = 0; n < 256; n += 128, y += 128, ql += 64, qh += 32, sc += 8) {
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      y[l] = d * static_cast<float>(sc[is]) * static_cast<float>(q1);
      y[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
      y[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
      y[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
    }
  }
}

}  // namespace

const GgmlType* find_ggml_type(uint32_t id) {
  for (const auto& t : kTypes) {
    if (t.id == id) return &t;
  }
  return nullptr;
}

std::string dequantizable_type_names() {
  std::string out;
  for (const auto& t : kTypes) {
    if (t.dequantizable) out += (out.empty() ? "" : ", ") + std::string(t.name);
  }
  return out;
}

void dequantize_row(const GgmlType& type, std::span<const std::byte> bytes, float* out, size_t count) {
  TORCH_CHECK(type.dequantizable, "dequantize_row: type ", type.name, " is not dequantisable");
  TORCH_CHECK(count % type.block_size == 0, "dequantize_row: ", count, " is not whole blocks of ", type.name);
  const size_t blocks = count / type.block_size;
  TORCH_CHECK(bytes.size() == blocks * type.type_size, "dequantize_row: ", bytes.size(), " bytes for ", blocks,
              " blocks of ", type.name);
  const auto* p = reinterpret_cast<const u8*>(bytes.data());
  void (*block)(const u8*, float*) = nullptr;
  switch (type.id) {
    case 0: std::memcpy(out, p, count * 4); return;
    case 1:
      for (size_t i = 0; i < count; ++i) out[i] = f16(p + 2 * i);
      return;
    case 30:
      for (size_t i = 0; i < count; ++i) {
        uint16_t bits;
        std::memcpy(&bits, p + 2 * i, 2);
        out[i] = static_cast<float>(c10::BFloat16(bits, c10::BFloat16::from_bits()));
      }
      return;
    case 28:
      for (size_t i = 0; i < count; ++i) {
        double v;
        std::memcpy(&v, p + 8 * i, 8);
        out[i] = static_cast<float>(v);
      }
      return;
    case 2: block = q4_0; break;
    case 3: block = q4_1; break;
    case 6: block = q5_0; break;
    case 7: block = q5_1; break;
    case 8: block = q8_0; break;
    case 12: block = q4_k; break;
    case 13: block = q5_k; break;
    case 14: block = q6_k; break;
    default: TORCH_CHECK(false, "dequantize_row: no decoder for ", type.name);
  }
  at::parallel_for(0, static_cast<int64_t>(blocks), 256, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) block(p + i * type.type_size, out + i * type.block_size);
  });
}

at::Tensor dequantize_tensor(const GgufFile& file, const GgufTensorInfo& info) {
  const GgmlType* type = find_ggml_type(info.type);
  TORCH_CHECK(type != nullptr, "dequantize_tensor: unknown type ", info.type, " passed GgufFile::open");
  if (!type->dequantizable) {
    throw InputError(file.path().string(), "tensor '" + info.name + "': type",
                     "one of " + dequantizable_type_names(), std::string(type->name),
                     "requantize the model (llama-quantize) to one of those types");
  }
  at::Tensor out = at::empty(info.torch_shape(), at::TensorOptions().dtype(at::kFloat));
  dequantize_row(*type, file.bytes(info), out.data_ptr<float>(), info.numel());
  return out;
}

}  // namespace editgate::harness
