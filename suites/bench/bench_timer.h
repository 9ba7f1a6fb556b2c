#pragma once
// Per-iteration timing for benchmarks registered with UseManualTime: CUDA
// events on libtorch's current stream when the bench device is CUDA and the
// CUDA target is built (host timers would count launch overhead and miss
// queued kernels), a steady clock after a device sync otherwise.

#include <chrono>
#include <memory>

#include "harness/gpu_timing.h"

namespace editgate::bench {

class IterationTimer {
 public:
  IterationTimer();
  void start();
  double stop_seconds();  // waits for the work queued since start()
  bool uses_cuda_events() const { return gpu_ != nullptr; }

 private:
  std::unique_ptr<harness::GpuTimer> gpu_;
  std::chrono::steady_clock::time_point t0_;
};

// Waits for the bench device's queued work (a no-op on CPU).
void sync_device();

}  // namespace editgate::bench
