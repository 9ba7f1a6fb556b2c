#pragma once
// The device's measured matrix-multiply throughput, the denominator of every
// benchmark's roofline fraction. Measured once per run, in the same process as
// the benchmarks, so the ratio compares like with like on a noisy machine.

#include <c10/core/Device.h>

namespace editgate::bench {

// Best FLOP/s of a square float32 matmul (n = 1024 on CPU, 8192 on CUDA) over a few repeats.
double measured_matmul_flops(at::Device device);

// Device benchmarks run on: EDITGATE_DEVICE or auto (see harness/device.h).
at::Device bench_device();

}  // namespace editgate::bench
