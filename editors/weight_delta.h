#pragma once
// What an edit did to one tensor: the Frobenius norm of the difference and its
// numerical rank, measured the same way by `editgate edit` (to declare it in
// the manifest) and `editgate audit` (to check the declaration against the
// files). This unit owns the rank rule; which tensors to compare is the
// callers'.
//
// Rank rule: the number of singular values of (edited − base), in float64,
// above tol = max(rtol · s_max, eps(dtype) · rms(edited) · (√m + √n)). The
// second term is the spectral norm that rounding the edited weights to their
// stored dtype can add by itself (elementwise error ≤ eps/2 · |w|), so a
// rank-one update stored in float32 measures rank one, not full rank.

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace editgate::editors {

inline constexpr double kRankRtol = 1e-6;

struct DeltaStats {
  double frobenius = 0;     // ‖edited − base‖_F
  int64_t rank = 0;         // singular values above tolerance (1-D tensors: 0 or 1)
  double tolerance = 0;     // the threshold used
  std::vector<double> top_singular_values;  // up to 8, descending
};

/// `base` and `edited`: the same shape and dtype, any device. 1-D tensors count
/// as rank 1 when their difference's norm exceeds the tolerance; higher ranks
/// are flattened to [size(0), rest].
DeltaStats analyze_delta(const at::Tensor& base, const at::Tensor& edited);

/// The rule in words, for manifests and audit reports.
std::string rank_rule_text();

/// sha256 of a tensor's little-endian bytes, contiguous, in its dtype (as safetensors stores it).
std::string tensor_sha256(const at::Tensor& t);

nlohmann::ordered_json to_json(const DeltaStats& s);

}  // namespace editgate::editors
