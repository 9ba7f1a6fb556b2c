#include "suites/bench/bench_timer.h"

#include <torch/cuda.h>

#include "suites/bench/device_peak.h"

namespace editgate::bench {

void sync_device() {
  if (bench_device().is_cuda()) torch::cuda::synchronize();
}

IterationTimer::IterationTimer() {
  if (bench_device().is_cuda() && harness::gpu_timing_built()) gpu_ = std::make_unique<harness::GpuTimer>();
}

void IterationTimer::start() {
  if (gpu_) {
    gpu_->start();
  } else {
    sync_device();
    t0_ = std::chrono::steady_clock::now();
  }
}

double IterationTimer::stop_seconds() {
  if (gpu_) {
    gpu_->stop();
    return gpu_->elapsed_seconds();
  }
  sync_device();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
}

}  // namespace editgate::bench
