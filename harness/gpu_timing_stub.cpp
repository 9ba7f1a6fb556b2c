// Stub of gpu_timing.h for builds without the CUDA target: timers throw,
// NVTX ranges do nothing (profiling is optional, timing is not).

#include <stdexcept>

#include "harness/gpu_timing.h"

namespace editgate::harness {

bool gpu_timing_built() { return false; }
std::int64_t gpu_total_memory_bytes() { return 0; }

struct GpuTimer::Events {};

GpuTimer::GpuTimer() {
  throw std::runtime_error("GPU timing is not in this build: rebuild with -DEDITGATE_CUDA=ON");
}
GpuTimer::~GpuTimer() = default;
void GpuTimer::start() {}
void GpuTimer::stop() {}
double GpuTimer::elapsed_seconds() { return 0.0; }

NvtxRange::NvtxRange(const char*) {}
NvtxRange::~NvtxRange() = default;

}  // namespace editgate::harness
