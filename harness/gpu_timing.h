#pragma once
// GPU timing and profiler ranges: CUDA-event timers (what benchmarks report
// with UseManualTime) and NVTX ranges (what Nsight shows). The real code is in
// harness/cuda/ and is built only with EDITGATE_CUDA; without it the stub
// throws "rebuild with EDITGATE_CUDA=ON", so callers can link either way.

#include <cstdint>
#include <memory>

namespace editgate::harness {

// True when this build has the CUDA target (says nothing about a GPU being present).
bool gpu_timing_built();

// Total memory of the current CUDA device in bytes; 0 without the CUDA target.
std::int64_t gpu_total_memory_bytes();

// Elapsed GPU time between start() and stop() on the current stream, via CUDA events.
class GpuTimer {
 public:
  GpuTimer();
  ~GpuTimer();
  GpuTimer(const GpuTimer&) = delete;
  GpuTimer& operator=(const GpuTimer&) = delete;
  void start();
  void stop();
  double elapsed_seconds();  // synchronises on the stop event

 private:
  struct Events;
  std::unique_ptr<Events> events_;  // cudaEvent_t pair; opaque so this header needs no CUDA
};

// An NVTX range for the lifetime of the object; free when no profiler listens.
class NvtxRange {
 public:
  explicit NvtxRange(const char* name);
  ~NvtxRange();
  NvtxRange(const NvtxRange&) = delete;
  NvtxRange& operator=(const NvtxRange&) = delete;
};

}  // namespace editgate::harness
