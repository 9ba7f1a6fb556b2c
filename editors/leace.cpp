#include "editors/leace.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

#include "harness/input_error.h"

namespace editgate::editors {
namespace {

std::vector<double> to_vector(const at::Tensor& t) {
  const at::Tensor c = t.to(at::kCPU, at::kDouble).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

std::string list_values(const std::vector<double>& v) {
  std::string s;
  for (double x : v) s += (s.empty() ? "" : ", ") + fmt::format("{:.3g}", x);
  return "[" + s + "]";
}

// Whitening W = Σ^{-1/2} and its inverse on the support kept by torch.linalg.pinv's rule.
struct Whitening {
  at::Tensor w;      // [d, d]
  at::Tensor w_inv;  // [d, d]
  int64_t rank = 0;
};

Whitening whiten(const at::Tensor& sigma) {
  auto [eigenvalues, v] = at::linalg_eigh(sigma);  // ascending
  const double largest = eigenvalues[-1].item<double>();
  const at::Tensor keep = eigenvalues > largest * static_cast<double>(sigma.size(0)) *
                                            std::numeric_limits<double>::epsilon();
  const at::Tensor l = eigenvalues.clamp_min(0.0);
  const at::Tensor zero = at::zeros_like(l);
  const at::Tensor inv_sqrt = at::where(keep, l.rsqrt(), zero);  // [d]
  const at::Tensor sqrt = at::where(keep, l.sqrt(), zero);       // [d]
  return Whitening{at::matmul(v * inv_sqrt, v.t()), at::matmul(v * sqrt, v.t()), keep.sum().item<int64_t>()};
}

// The reference's trace guard: if tr(P Σ Pᵀ) > tr(Σ), mix P toward Q = I - u uᵀ
// until the traces are equal. Returns the mixed I - P factored as left·right
// with the singular values split over both factors (rows of `right` scaled, so
// left·right = I - P exactly, unlike the reference's vh * s.sqrt()).
bool constrain_trace(const at::Tensor& sigma, const at::Tensor& u, at::Tensor& left, at::Tensor& right) {
  const int64_t d = sigma.size(0);
  const at::Tensor eye = at::eye(d, sigma.options());
  at::Tensor p = eye - at::matmul(left, right);
  const double old_trace = sigma.trace().item<double>();
  const double new_trace = at::matmul(at::matmul(p, sigma), p.t()).trace().item<double>();
  if (!(new_trace > old_trace)) return false;
  const at::Tensor q = eye - at::matmul(u, u.t());
  const double x = new_trace;
  const double y = 2.0 * at::matmul(at::matmul(p, sigma), q.t()).trace().item<double>();
  const double z = at::matmul(at::matmul(q, sigma), q.t()).trace().item<double>();
  const double w = old_trace;
  const double discr = std::sqrt(std::max(0.0, 4 * w * x - 4 * w * y + 4 * w * z - 4 * x * z + y * y));
  const double alpha1 = (-y / 2 + z - discr / 2) / (x - y + z);
  const double alpha2 = (-y / 2 + z + discr / 2) / (x - y + z);
  const double alpha = std::clamp(alpha1 > 0 ? alpha1 : alpha2, 0.0, 1.0);
  p = alpha * p + (1 - alpha) * q;
  auto [uu, s, vh] = at::linalg_svd(eye - p, false);
  const at::Tensor kept = s > s[0].item<double>() * static_cast<double>(d) * std::numeric_limits<double>::epsilon();
  const at::Tensor idx = kept.nonzero().flatten();
  const at::Tensor root = s.index_select(0, idx).sqrt();  // [r]
  left = uu.index_select(1, idx) * root;                   // columns scaled
  right = vh.index_select(0, idx) * root.unsqueeze(1);     // rows scaled
  return true;
}

}  // namespace

std::string_view to_string(ErasureMethod method) { return method == ErasureMethod::kLeace ? "leace" : "orth"; }

ErasureMethod parse_erasure_method(std::string_view name, std::string_view context) {
  if (name == "leace") return ErasureMethod::kLeace;
  if (name == "orth") return ErasureMethod::kOrth;
  throw InputError(std::string(context), "method", "leace or orth", "'" + std::string(name) + "'");
}

LeaceFit fit_leace(const LeaceStatistics& stats, const LeaceOptions& options) {
  TORCH_CHECK(stats.count() > 1, "fit_leace needs at least 2 samples, have ", stats.count());
  TORCH_CHECK(options.svd_rtol >= 0 && options.svd_atol >= 0, "singular-value tolerances must be >= 0");
  const int64_t d = stats.dim();
  const int64_t k = stats.num_classes();
  LeaceFitReport report;
  report.method = std::string(to_string(options.method));
  report.shrinkage = options.shrinkage;
  report.affine = options.affine;
  report.n = stats.count();
  report.dim = d;
  report.num_classes = k;
  const at::Tensor counts = stats.class_counts();
  report.class_counts.assign(counts.data_ptr<int64_t>(), counts.data_ptr<int64_t>() + k);
  report.expected_rank = k - 1;

  const at::Tensor sigma_xz = stats.sigma_xz();  // [d, k]
  const double z_scale = std::sqrt(std::max(0.0, at::linalg_eigvalsh(stats.sigma_zz())[-1].item<double>()));
  at::Tensor w, w_inv, sigma;
  if (options.method == ErasureMethod::kLeace) {
    const ShrunkCovariance shrunk = stats.sigma_xx(options.shrinkage);
    sigma = shrunk.sigma;
    report.shrinkage_alpha = shrunk.alpha;
    Whitening wh = whiten(sigma);
    w = wh.w;
    w_inv = wh.w_inv;
    report.whitening_rank = wh.rank;
    report.singular_value_scale = z_scale;
  } else {
    report.whitening_rank = d;
    const ShrunkCovariance plain = stats.sigma_xx(false);
    report.singular_value_scale =
        z_scale * std::sqrt(std::max(0.0, at::linalg_eigvalsh(plain.sigma)[-1].item<double>()));
  }

  const at::Tensor whitened = w.defined() ? at::matmul(w, sigma_xz) : sigma_xz;  // [d, k]
  auto [u, s, vh] = at::linalg_svd(whitened, false);                              // u [d, m], s [m]
  report.singular_values = to_vector(s);
  report.threshold = std::max(options.svd_atol, options.svd_rtol * report.singular_value_scale);
  const at::Tensor keep = s > report.threshold;
  const at::Tensor idx = keep.nonzero().flatten();
  const at::Tensor u_kept = u.index_select(1, idx);  // [d, r]
  for (double v : report.singular_values) {
    if (!(v > report.threshold)) report.dropped_singular_values.push_back(v);
  }

  at::Tensor left = w_inv.defined() ? at::matmul(w_inv, u_kept) : u_kept;             // [d, r]
  at::Tensor right = w.defined() ? at::matmul(u_kept.t(), w) : u_kept.t().clone();  // [r, d]
  if (options.constrain_cov_trace && options.method == ErasureMethod::kLeace) {
    report.trace_constraint_applied = constrain_trace(sigma, u_kept, left, right);
  }
  report.rank = left.size(1);

  // Warnings: anything that leaves the edit below rank k - 1 or the guarantee weaker.
  std::vector<int64_t> absent;
  for (int64_t c = 0; c < k; ++c) {
    if (report.class_counts[static_cast<size_t>(c)] == 0) absent.push_back(c);
  }
  if (!absent.empty()) {
    std::string list;
    for (int64_t c : absent) list += (list.empty() ? "" : ", ") + std::to_string(c);
    report.warnings.push_back(fmt::format("classes {} have no samples in the fit data: they are not guarded", list));
  }
  if (report.rank < k - 1) {
    report.warnings.push_back(fmt::format(
        "erasure rank {} is below k-1 = {}: singular values {} of W·Σ_XZ are at or below the threshold {:.3g}",
        report.rank, k - 1, list_values(report.dropped_singular_values), report.threshold));
  }
  if (options.svd_atol > options.svd_rtol * report.singular_value_scale) {
    for (double v : report.dropped_singular_values) {
      if (v > options.svd_rtol * report.singular_value_scale) {
        report.warnings.push_back(fmt::format(
            "the absolute tolerance svd_atol = {:.3g} dropped a real singular value {:.3g}: "
            "that concept direction is left un-erased",
            options.svd_atol, v));
      }
    }
  }
  if (report.trace_constraint_applied) {
    report.warnings.push_back(
        "the covariance-trace constraint fired (rounding): P was mixed toward an orthogonal projection, "
        "so Cov(X', Z) may no longer be exactly zero");
  }

  at::Tensor bias = options.affine ? stats.mean_x().clone() : at::zeros({d}, stats.mean_x().options());
  return LeaceFit{Eraser{bias, left.contiguous(), right.contiguous()}, std::move(report)};
}

LeaceStatistics accumulate_statistics(const LabeledData& data, int64_t batch_size) {
  LeaceStatistics stats(data.dim(), data.num_classes, data.x.device());
  const int64_t n = data.size();
  const int64_t step = batch_size > 0 ? batch_size : std::max<int64_t>(n, 1);
  for (int64_t start = 0; start < n; start += step) {
    const int64_t len = std::min(step, n - start);
    stats.update(data.x.narrow(0, start, len), data.z.narrow(0, start, len));
  }
  return stats;
}

LeaceFit fit_leace(const LabeledData& data, const LeaceOptions& options, int64_t batch_size) {
  return fit_leace(accumulate_statistics(data, batch_size), options);
}

nlohmann::json LeaceFitReport::to_json() const {
  return nlohmann::json{{"method", method},
                        {"shrinkage", shrinkage},
                        {"shrinkage_alpha", shrinkage_alpha},
                        {"affine", affine},
                        {"n", n},
                        {"dim", dim},
                        {"num_classes", num_classes},
                        {"class_counts", class_counts},
                        {"rank", rank},
                        {"expected_rank", expected_rank},
                        {"singular_values", singular_values},
                        {"dropped_singular_values", dropped_singular_values},
                        {"threshold", threshold},
                        {"singular_value_scale", singular_value_scale},
                        {"whitening_rank", whitening_rank},
                        {"trace_constraint_applied", trace_constraint_applied},
                        {"warnings", warnings}};
}

}  // namespace editgate::editors
