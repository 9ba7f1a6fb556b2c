#include "harness/device.h"

#include <torch/cuda.h>

#include <cstdlib>
#include <string>

#include "harness/input_error.h"

namespace editgate::harness {

bool cuda_available() { return torch::cuda::is_available(); }

at::Device resolve_device(std::string_view flag) {
  std::string name(flag);
  std::string source = "--device";
  if (name.empty() || name == "auto") {
    if (const char* env = std::getenv("EDITGATE_DEVICE"); env != nullptr && *env != '\0') {
      name = env;
      source = "EDITGATE_DEVICE";
    }
  }
  if (name.empty() || name == "auto") return cuda_available() ? at::Device(at::kCUDA, 0) : at::Device(at::kCPU);
  if (name == "cpu") return at::Device(at::kCPU);
  if (name == "cuda" || name.starts_with("cuda:")) {
    if (!cuda_available()) {
      throw InputError("", source, "a device present on this machine", "'" + name + "' (no CUDA GPU visible)",
                       "use --device cpu");
    }
    try {
      at::Device d(name);
      if (d.index() >= static_cast<int>(torch::cuda::device_count())) {
        throw InputError("", source, "a GPU index below " + std::to_string(torch::cuda::device_count()), name);
      }
      return name == "cuda" ? at::Device(at::kCUDA, 0) : d;
    } catch (const c10::Error&) {
      throw InputError("", source, "cpu, cuda, cuda:N or auto", "'" + name + "'");
    }
  }
  throw InputError("", source, "cpu, cuda, cuda:N or auto", "'" + name + "'");
}

at::ScalarType resolve_compute_dtype(at::Device device, std::string_view flag, at::ScalarType stored) {
  if (flag == "f32" || flag == "float32") return at::kFloat;
  if (flag == "f16" || flag == "float16") return at::kHalf;
  if (flag == "bf16" || flag == "bfloat16") return at::kBFloat16;
  if (!flag.empty() && flag != "auto") {
    throw InputError("", "--dtype", "auto, f32, f16 or bf16", "'" + std::string(flag) + "'");
  }
  if (device.is_cpu()) return at::kFloat;
  return (stored == at::kHalf || stored == at::kBFloat16) ? stored : at::kFloat;
}

}  // namespace editgate::harness
