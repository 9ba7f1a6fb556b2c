#include "suites/bench/device_peak.h"

#include <ATen/ATen.h>
#include <torch/cuda.h>

#include <chrono>
#include <map>

#include "harness/device.h"

namespace editgate::bench {

at::Device bench_device() {
  static const at::Device device = harness::resolve_device("auto");
  return device;
}

double measured_matmul_flops(at::Device device) {
  static std::map<std::string, double> cache;
  const auto key = device.str();
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  const int64_t n = device.is_cuda() ? 8192 : 1024;
  const auto a = at::randn({n, n}, at::TensorOptions().device(device));
  const auto b = at::randn({n, n}, at::TensorOptions().device(device));
  auto sync = [&] {
    if (device.is_cuda()) torch::cuda::synchronize();
  };
  (void)at::mm(a, b);  // warm-up: thread pools, cuBLAS handles
  sync();
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    (void)at::mm(a, b);
    sync();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, 2.0 * static_cast<double>(n * n * n) / s);
  }
  cache[key] = best;
  return best;
}

}  // namespace editgate::bench
