// The eraser file: a save/load round trip, and one malformed file per
// validation branch of Eraser::load (MLX load_tests style: each must throw
// InputError naming the tensor).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "editors/eraser.h"
#include "editors/leace.h"
#include "harness/input_error.h"
#include "harness/safetensors_writer.h"
#include "tests/editors/synthetic_concept.h"
#include "tests/harness/tiny_checkpoint.h"

namespace editgate::testing {
namespace {

using Named = std::vector<std::pair<std::string, at::Tensor>>;

Named valid_tensors(int64_t d = 6, int64_t r = 2) {
  return {{"bias", at::randn({d}, at::kDouble)},
          {"proj_left", at::randn({d, r}, at::kDouble)},
          {"proj_right", at::randn({r, d}, at::kDouble)}};
}

void expect_load_error(const Named& tensors, const std::string& needle) {
  TempDir dir;
  const auto path = dir / "eraser.safetensors";
  harness::write_safetensors(path, tensors);
  try {
    editors::Eraser::load(path);
    FAIL() << "no InputError; expected one mentioning " << needle;
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_EQ(e.path(), path.string());
  }
}

Named with(Named t, const std::string& name, const at::Tensor& value) {
  for (auto& [n, v] : t) {
    if (n == name) v = value;
  }
  return t;
}

Named without(Named t, const std::string& name) {
  std::erase_if(t, [&](const auto& p) { return p.first == name; });
  return t;
}

TEST(EraserFile, RoundTripKeepsTheMapAndMetadata) {
  const auto data = make_concept({.n = 800, .d = 7, .k = 3, .seed = 2});
  const auto fit = editors::fit_leace(data);
  TempDir dir;
  fit.eraser.save(dir / "e.safetensors", {{"hook", "blocks.0.hook_resid_post"}});
  const auto loaded = editors::Eraser::load(dir / "e.safetensors");
  EXPECT_EQ(loaded.rank(), 2);
  EXPECT_LT(max_diff(loaded.apply(data.x), fit.eraser.apply(data.x)), 1e-15);
}

TEST(EraserFile, LoadsF32AndRankZeroErasers) {
  TempDir dir;
  harness::write_safetensors(dir / "f32.safetensors", {{"bias", at::zeros({4}, at::kFloat)},
                                                       {"proj_left", at::zeros({4, 0}, at::kFloat)},
                                                       {"proj_right", at::zeros({0, 4}, at::kFloat)}});
  const auto e = editors::Eraser::load(dir / "f32.safetensors");
  EXPECT_EQ(e.rank(), 0);
  EXPECT_EQ(e.bias.scalar_type(), at::kDouble);
  const at::Tensor x = at::randn({3, 4}, at::kDouble);
  EXPECT_TRUE(at::equal(e.apply(x), x));
}

TEST(EraserFile, RejectsAMissingTensor) {
  expect_load_error(without(valid_tensors(), "proj_left"), "proj_left");
  expect_load_error(without(valid_tensors(), "bias"), "bias");
  expect_load_error(without(valid_tensors(), "proj_right"), "proj_right");
}

TEST(EraserFile, RejectsANonFloatingDtype) {
  expect_load_error(with(valid_tensors(), "bias", at::zeros({6}, at::kLong)), "dtype F32 or F64");
}

TEST(EraserFile, RejectsWrongRanks) {
  expect_load_error(with(valid_tensors(), "bias", at::zeros({6, 1}, at::kDouble)), "'bias'");
  expect_load_error(with(valid_tensors(), "proj_left", at::zeros({12}, at::kDouble)), "'proj_left'");
  expect_load_error(with(valid_tensors(), "proj_right", at::zeros({2, 6, 1}, at::kDouble)), "'proj_right'");
}

TEST(EraserFile, RejectsInconsistentShapes) {
  expect_load_error(with(valid_tensors(), "proj_left", at::zeros({5, 2}, at::kDouble)), "d from bias");
  expect_load_error(with(valid_tensors(), "proj_right", at::zeros({3, 6}, at::kDouble)), "r from proj_left");
  expect_load_error(with(valid_tensors(), "proj_right", at::zeros({2, 5}, at::kDouble)), "r from proj_left");
  expect_load_error(valid_tensors(2, 3), "rank r <= d");
  expect_load_error(with(valid_tensors(), "bias", at::zeros({0}, at::kDouble)), "d >= 1");
}

TEST(EraserFile, RejectsNonFiniteValues) {
  at::Tensor left = at::randn({6, 2}, at::kDouble);
  left[1][1] = std::numeric_limits<double>::quiet_NaN();
  expect_load_error(with(valid_tensors(), "proj_left", left), "finite");
  expect_load_error(with(valid_tensors(), "bias", at::full({6}, INFINITY, at::kDouble)), "finite");
}

TEST(EraserFile, RejectsATruncatedFile) {
  TempDir dir;
  editors::Eraser{at::zeros({4}, at::kDouble), at::zeros({4, 1}, at::kDouble), at::zeros({1, 4}, at::kDouble)}.save(
      dir / "e.safetensors");
  std::filesystem::resize_file(dir / "e.safetensors", 40);
  EXPECT_THROW(editors::Eraser::load(dir / "e.safetensors"), InputError);
}

}  // namespace
}  // namespace editgate::testing
