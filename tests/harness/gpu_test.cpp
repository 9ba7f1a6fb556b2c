// GPU tests (ctest label gpu): CUDA-event timing and CPU/CUDA agreement of the
// runtime. Each skips with its reason where there is no CUDA device or the
// build has no CUDA target, so the label is safe to run anywhere.

#include <ATen/ATen.h>
#include <c10/core/DeviceGuard.h>
#include <c10/core/GradMode.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <cstdlib>
#include <string>

#include "harness/checkpoint.h"
#include "harness/gpu_timing.h"
#include "tests/harness/tiny_checkpoint.h"

namespace editgate::testing {
namespace {

#define EDITGATE_REQUIRE_CUDA()                                                          \
  do {                                                                                   \
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device on this machine";  \
  } while (0)

// The GPU ctest allotted this test (ctest --resource-spec-file sets
// CTEST_RESOURCE_GROUP_0_GPUS=id:N,slots:1 for RESOURCE_GROUPS gpus:1), else 0.
at::Device allotted_gpu() {
  const char* spec = std::getenv("CTEST_RESOURCE_GROUP_0_GPUS");
  if (spec == nullptr || std::string(spec).rfind("id:", 0) != 0) return {at::kCUDA, 0};
  return {at::kCUDA, static_cast<c10::DeviceIndex>(std::stoi(std::string(spec).substr(3)))};
}

TEST(GpuTiming, CudaEventsTimeQueuedWork) {
  EDITGATE_REQUIRE_CUDA();
  if (!harness::gpu_timing_built()) GTEST_SKIP() << "built without the CUDA target (EDITGATE_CUDA=OFF)";
  const c10::DeviceGuard on(allotted_gpu());  // events and work on the same device
  const auto a = at::randn({2048, 2048}, at::TensorOptions().device(allotted_gpu()));
  (void)at::mm(a, a);  // warm-up: cuBLAS handle
  harness::GpuTimer timer;
  timer.start();
  (void)at::mm(a, a);
  timer.stop();
  const double one = timer.elapsed_seconds();
  timer.start();
  for (int i = 0; i < 20; ++i) (void)at::mm(a, a);
  timer.stop();
  const double twenty = timer.elapsed_seconds();
  EXPECT_GT(one, 0.0);
  // Events time the GPU work itself: twenty products take clearly longer than one.
  EXPECT_GT(twenty, 5.0 * one) << "one " << one << " s, twenty " << twenty << " s";
  EXPECT_GT(harness::gpu_total_memory_bytes(), int64_t{1} << 30);
}

class GpuRuntime : public ::testing::TestWithParam<TinyArch> {};

// The same checkpoint loaded on CPU and on CUDA gives the same logits.
TEST_P(GpuRuntime, ForwardMatchesCpu) {
  EDITGATE_REQUIRE_CUDA();
  c10::NoGradGuard ng;
  TempDir dir;
  write_tiny_checkpoint(dir.path() / "ckpt", GetParam().spec);
  harness::LoadOptions cpu, cuda;
  cpu.device = "cpu";
  cuda.device = allotted_gpu().str();
  auto on_cpu = harness::load_model(dir.path() / "ckpt", cpu);
  auto on_cuda = harness::load_model(dir.path() / "ckpt", cuda);
  ASSERT_TRUE(on_cuda.model->device().is_cuda());
  const auto ids = at::tensor(random_prompts({12}, on_cpu.model->config().vocab_size, 3)[0]).unsqueeze(0);
  const auto a = on_cpu.model->forward(ids);
  const auto b = on_cuda.model->forward(ids.to(allotted_gpu()));
  EXPECT_LT(max_abs_diff(a, b), 1e-3);
}

INSTANTIATE_TEST_SUITE_P(Archs, GpuRuntime, ::testing::ValuesIn(tiny_architectures()), tiny_arch_name);

}  // namespace
}  // namespace editgate::testing
