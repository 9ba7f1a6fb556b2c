#pragma once
// Per-iteration timing for benchmarks registered with UseManualTime: CUDA
// events on libtorch's current stream when the bench device is CUDA and the
// CUDA target is built (host timers would count launch overhead and miss
// queued kernels), a steady clock after a device sync otherwise.

#include <benchmark/benchmark.h>

#include <chrono>
#include <memory>
#include <utility>

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

// The timed loop of a UseManualTime benchmark: `body` once per iteration, timed
// by an IterationTimer and reported with SetIterationTime, then `after`
// untimed (restoring edited weights, say). Returns the total timed seconds.
template <class Body, class After>
double timed_iterations(benchmark::State& state, Body&& body, After&& after) {
  IterationTimer timer;
  double total = 0;
  for (auto _ : state) {
    timer.start();
    body();
    const double t = timer.stop_seconds();
    state.SetIterationTime(t);
    total += t;
    after();
  }
  return total;
}

template <class Body>
double timed_iterations(benchmark::State& state, Body&& body) {
  return timed_iterations(state, std::forward<Body>(body), [] {});
}

}  // namespace editgate::bench
