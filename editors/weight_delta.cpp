#include "editors/weight_delta.h"

#include <ATen/ATen.h>
#include <c10/util/Half.h>
#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "harness/sha256.h"

namespace editgate::editors {
namespace {

double dtype_eps(at::ScalarType t) {
  switch (t) {
    case at::kDouble: return std::numeric_limits<double>::epsilon();
    case at::kHalf: return 9.765625e-4;     // 2^-10
    case at::kBFloat16: return 7.8125e-3;   // 2^-7
    default: return std::numeric_limits<float>::epsilon();
  }
}

}  // namespace

DeltaStats analyze_delta(const at::Tensor& base, const at::Tensor& edited) {
  TORCH_CHECK(base.sizes() == edited.sizes(), "analyze_delta: shapes differ: ", base.sizes(), " vs ", edited.sizes());
  const auto e64 = edited.detach().to(at::kCPU, at::kDouble);
  auto d = e64 - base.detach().to(at::kCPU, at::kDouble);
  DeltaStats s;
  s.frobenius = d.norm().item<double>();
  if (s.frobenius == 0) return s;
  const double eps = dtype_eps(edited.scalar_type());
  const double rms = e64.pow(2).mean().sqrt().item<double>();
  if (d.dim() <= 1) {
    s.tolerance = eps * rms * std::sqrt(static_cast<double>(d.numel()));
    s.rank = s.frobenius > s.tolerance ? 1 : 0;
    s.top_singular_values = {s.frobenius};
    return s;
  }
  d = d.reshape({d.size(0), -1});
  const auto sv = at::linalg_svdvals(d);  // descending
  const double smax = sv[0].item<double>();
  const double m = static_cast<double>(d.size(0)), n = static_cast<double>(d.size(1));
  s.tolerance = std::max(kRankRtol * smax, eps * rms * (std::sqrt(m) + std::sqrt(n)));
  s.rank = (sv > s.tolerance).sum().item<int64_t>();
  for (int64_t i = 0; i < std::min<int64_t>(8, sv.size(0)); ++i) s.top_singular_values.push_back(sv[i].item<double>());
  return s;
}

std::string rank_rule_text() {
  return fmt::format(
      "singular values of (edited - base) in float64 above max({:g} * s_max, eps(dtype) * rms(edited) * "
      "(sqrt(rows) + sqrt(cols)))",
      kRankRtol);
}

std::string tensor_sha256(const at::Tensor& t) {
  const auto c = t.detach().cpu().contiguous();
  return harness::sha256_hex(std::string_view(static_cast<const char*>(c.data_ptr()), c.nbytes()));
}

nlohmann::ordered_json to_json(const DeltaStats& s) {
  return {{"frobenius_norm", s.frobenius},
          {"numerical_rank", s.rank},
          {"rank_tolerance", s.tolerance},
          {"top_singular_values", s.top_singular_values}};
}

}  // namespace editgate::editors
