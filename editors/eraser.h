#pragma once
// Eraser: an affine concept eraser in factored form,
//   x' = x - ((x - bias) proj_rightᵀ) proj_leftᵀ,   P = I - proj_left proj_right,
// as LEACE, orth and INLP produce it (rank r <= k - 1 for LEACE), with its
// safetensors file format. This unit owns applying, saving and loading (with
// every shape and value checked on load); fitting is leace.h's and inlp.h's job,
// installing it in a model eraser_hook.h's.
//
// File: tensors `bias` [d], `proj_left` [d, r], `proj_right` [r, d] (F32 or F64);
// other tensors in the file (an `erase` output's X_erased, P) are ignored on load.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace editgate::editors {

struct Eraser {
  at::Tensor bias;        // [d] float64; zeros for an eraser fitted without the mean term (affine off)
  at::Tensor proj_left;   // [d, r] float64
  at::Tensor proj_right;  // [r, d] float64

  int64_t dim() const { return bias.size(0); }
  int64_t rank() const { return proj_left.size(1); }

  /// Erases the last dimension of `x` [..., d]; returns x's shape and dtype,
  /// computed in x's dtype on x's device (cast the eraser once with to() for hot loops).
  at::Tensor apply(const at::Tensor& x) const;

  /// P = I - proj_left proj_right, [d, d] float64.
  at::Tensor projection() const;

  /// A copy on `device` in `dtype`.
  Eraser to(at::Device device, at::ScalarType dtype) const;

  /// The three tensors under their file names.
  std::vector<std::pair<std::string, at::Tensor>> named_tensors() const;

  /// Writes the eraser (and `metadata` into __metadata__) atomically.
  void save(const std::filesystem::path& path, const std::map<std::string, std::string>& metadata = {}) const;

  /// Reads an eraser file; InputError naming the file and tensor for a missing
  /// tensor, a non-floating dtype, wrong ranks, inconsistent d or r, r > d, or
  /// non-finite values. Returned tensors are float64 on CPU.
  static Eraser load(const std::filesystem::path& path);
};

}  // namespace editgate::editors
