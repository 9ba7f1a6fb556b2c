// CUDA implementation of gpu_timing.h: CUDA events on libtorch's current
// stream, NVTX v3 ranges (header-only in CUDA >= 12).

#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#include <nvtx3/nvToolsExt.h>

#include <stdexcept>
#include <string>

#include "harness/gpu_timing.h"

namespace editgate::harness {
namespace {

void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(err));
}

}  // namespace

bool gpu_timing_built() { return true; }

std::int64_t gpu_total_memory_bytes() {
  size_t free_bytes = 0, total_bytes = 0;
  check(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
  return static_cast<std::int64_t>(total_bytes);
}

struct GpuTimer::Events {
  cudaEvent_t start = nullptr;
  cudaEvent_t stop = nullptr;
};

GpuTimer::GpuTimer() : events_(std::make_unique<Events>()) {
  check(cudaEventCreate(&events_->start), "cudaEventCreate");
  check(cudaEventCreate(&events_->stop), "cudaEventCreate");
}

GpuTimer::~GpuTimer() {
  if (events_->start) cudaEventDestroy(events_->start);
  if (events_->stop) cudaEventDestroy(events_->stop);
}

void GpuTimer::start() {
  check(cudaEventRecord(events_->start, c10::cuda::getCurrentCUDAStream().stream()), "cudaEventRecord");
}

void GpuTimer::stop() {
  check(cudaEventRecord(events_->stop, c10::cuda::getCurrentCUDAStream().stream()), "cudaEventRecord");
}

double GpuTimer::elapsed_seconds() {
  check(cudaEventSynchronize(events_->stop), "cudaEventSynchronize");
  float ms = 0;
  check(cudaEventElapsedTime(&ms, events_->start, events_->stop), "cudaEventElapsedTime");
  return static_cast<double>(ms) / 1e3;
}

NvtxRange::NvtxRange(const char* name) { nvtxRangePushA(name); }
NvtxRange::~NvtxRange() { nvtxRangePop(); }

}  // namespace editgate::harness
