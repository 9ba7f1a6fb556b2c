#include "editors/eraser.h"

#include <ATen/ATen.h>

#include "harness/input_error.h"
#include "harness/safetensors_reader.h"
#include "harness/safetensors_writer.h"

namespace editgate::editors {
at::Tensor Eraser::apply(const at::Tensor& x) const {
  TORCH_CHECK(x.size(-1) == dim(), "eraser of width ", dim(), " applied to activations of width ", x.size(-1));
  const auto opts = x.options();
  const at::Tensor delta = x - bias.to(opts);                          // [..., d]
  const at::Tensor coords = at::matmul(delta, proj_right.to(opts).t());  // [..., r]
  return x - at::matmul(coords, proj_left.to(opts).t());
}

at::Tensor Eraser::projection() const {
  return at::eye(dim(), bias.options()) - at::matmul(proj_left, proj_right);
}

Eraser Eraser::to(at::Device device, at::ScalarType dtype) const {
  const auto opts = at::TensorOptions().device(device).dtype(dtype);
  return Eraser{bias.to(opts), proj_left.to(opts), proj_right.to(opts)};
}

std::vector<std::pair<std::string, at::Tensor>> Eraser::named_tensors() const {
  return {{"bias", bias}, {"proj_left", proj_left}, {"proj_right", proj_right}};
}

void Eraser::save(const std::filesystem::path& path, const std::map<std::string, std::string>& metadata) const {
  harness::write_safetensors(path, named_tensors(), metadata);
}

Eraser Eraser::load(const std::filesystem::path& path) {
  const auto file = harness::SafetensorsFile::open(path);
  const std::string p = path.string();
  const auto get = [&](const std::string& name, int64_t rank, const std::string& shape_words) {
    if (file->find(name) == nullptr) {
      throw InputError(p, "tensor '" + name + "'", "a tensor " + shape_words, "nothing (missing)",
                       "an eraser file holds bias, proj_left and proj_right");
    }
    at::Tensor t = file->tensor(name);
    if (t.scalar_type() != at::kFloat && t.scalar_type() != at::kDouble) {
      throw InputError(p, "tensor '" + name + "'", "dtype F32 or F64", std::string(c10::toString(t.scalar_type())));
    }
    if (t.dim() != rank) {
      throw InputError(p, "tensor '" + name + "'", "shape " + shape_words, "shape " + shape_text(t.sizes()));
    }
    if (!at::isfinite(t).all().item<bool>()) {
      throw InputError(p, "tensor '" + name + "'", "finite values", "NaN or Inf");
    }
    return t.to(at::kDouble).clone();  // detach from the mapping
  };
  Eraser e{get("bias", 1, "[d]"), get("proj_left", 2, "[d, r]"), get("proj_right", 2, "[r, d]")};
  const int64_t d = e.bias.size(0);
  if (d == 0) throw InputError(p, "tensor 'bias'", "shape [d] with d >= 1", "shape [0]");
  if (e.proj_left.size(0) != d) {
    throw InputError(p, "tensor 'proj_left'", "shape [" + std::to_string(d) + ", r] (d from bias)",
                     "shape " + shape_text(e.proj_left.sizes()));
  }
  const int64_t r = e.proj_left.size(1);
  if (r > d) {
    throw InputError(p, "tensor 'proj_left'", "rank r <= d = " + std::to_string(d), "r = " + std::to_string(r));
  }
  if (e.proj_right.size(0) != r || e.proj_right.size(1) != d) {
    throw InputError(p, "tensor 'proj_right'",
                     "shape [" + std::to_string(r) + ", " + std::to_string(d) + "] (r from proj_left, d from bias)",
                     "shape " + shape_text(e.proj_right.sizes()));
  }
  return e;
}

}  // namespace editgate::editors
