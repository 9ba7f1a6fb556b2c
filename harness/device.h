#pragma once
// Device and dtype selection: `--device cpu|cuda|cuda:N|auto` and the
// EDITGATE_DEVICE environment variable, so CPU and GPU runners run the same
// commands and tests. "auto" means CUDA when libtorch has it and a GPU is present.

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <string_view>

namespace editgate::harness {

// Resolves a device flag; an empty flag or "auto" consults EDITGATE_DEVICE, then
// picks CUDA if available. InputError for an unknown name or an absent GPU.
at::Device resolve_device(std::string_view flag = "auto");

// Compute dtype on a device: float32 on CPU (f16/bf16 weights are converted on
// load), the checkpoint's own dtype on CUDA unless `flag` ("f32", "f16", "bf16") says otherwise.
at::ScalarType resolve_compute_dtype(at::Device device, std::string_view flag, at::ScalarType stored);

bool cuda_available();

}  // namespace editgate::harness
