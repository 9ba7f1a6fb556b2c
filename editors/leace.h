#pragma once
// LEACE (Belrose et al. 2023): the least-change affine eraser that makes X
// linearly guarded against Z (Cov(X', one-hot Z) = 0, equal class means),
//   r(x) = x - W⁺ P_{W Σ_XZ} W (x - E[X]),  W = (Σ_XX^{1/2})⁺,
// and its orth variant (W = I), computed in float64 from streamed statistics.
// This unit owns the closed form, the singular-value tolerance and the fit
// report; the statistics are leace_statistics.h's, the eraser's form and file
// eraser.h's, the label-dependent oracle variant oracle_leace.h's.
//
// Differences from EleutherAI/concept-erasure (whose P, bias and X' we match):
// the singular-value tolerance is relative (a correlation, see svd_rtol) rather
// than absolute, every dropped singular value is reported, a rank below k - 1
// is a warning, and the trace constraint, if it ever fires, rebuilds the factors
// so that proj_left proj_right = I - P still holds (and is flagged).

#include <ATen/core/Tensor.h>
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "editors/eraser.h"
#include "editors/labeled_data.h"
#include "editors/leace_statistics.h"

namespace editgate::editors {

enum class ErasureMethod { kLeace, kOrth };

std::string_view to_string(ErasureMethod method);
/// "leace" or "orth"; InputError naming `context` (a flag or file) otherwise.
ErasureMethod parse_erasure_method(std::string_view name, std::string_view context = "--method");

struct LeaceOptions {
  ErasureMethod method = ErasureMethod::kLeace;
  bool shrinkage = true;            // linear shrinkage of Σ_XX toward a scaled identity (reference default)
  bool affine = true;               // keep the mean term, so E[X'] = E[X]; off: bias = 0
  bool constrain_cov_trace = true;  // the reference's guard tr(P Σ Pᵀ) <= tr(Σ); fires only through rounding
  // Singular values s of W Σ_XZ with s <= svd_rtol * s_ref are dropped, where
  // s_ref = sqrt(λ_max(Σ_ZZ)) (times sqrt(λ_max(Σ_XX)) for orth) is the scale
  // the singular values live on: the tolerance is a correlation, independent of
  // the units of X, and the default only drops numerical zeros (the k-th
  // direction of one-hot Z, an already-erased concept).
  double svd_rtol = 1e-6;
  // Also drop s <= svd_atol: the reference's absolute `svd_tol` (0.01 there),
  // kept for comparison only; it can leave a weak, real concept un-erased.
  double svd_atol = 0.0;
};

/// What a fit did, for logs, metadata and gates.
struct LeaceFitReport {
  std::string method;                            // "leace" | "orth"
  bool shrinkage = true;
  bool affine = true;
  double shrinkage_alpha = 1.0;                  // weight kept on the sample covariance
  int64_t n = 0;
  int64_t dim = 0;
  int64_t num_classes = 0;
  std::vector<int64_t> class_counts;             // [k] samples per class in the fit data
  int64_t rank = 0;                              // r, the rank of the edit
  int64_t expected_rank = 0;                     // k - 1
  std::vector<double> singular_values;           // of W Σ_XZ, descending
  std::vector<double> dropped_singular_values;   // those at or below the threshold
  double threshold = 0.0;                        // max(svd_atol, svd_rtol * s_ref)
  double singular_value_scale = 0.0;             // s_ref
  int64_t whitening_rank = 0;                    // eigenvalues of Σ_XX kept by the pinv rule (d for orth)
  bool trace_constraint_applied = false;
  std::vector<std::string> warnings;             // rank below k - 1, absent classes, ...

  nlohmann::json to_json() const;
};

struct LeaceFit {
  Eraser eraser;
  LeaceFitReport report;
};

/// The eraser from accumulated statistics (at least 2 samples).
LeaceFit fit_leace(const LeaceStatistics& stats, const LeaceOptions& options = {});

/// Streams `data` through LeaceStatistics in batches of `batch_size` rows (0:
/// one batch) on data.x's device, then fits.
LeaceFit fit_leace(const LabeledData& data, const LeaceOptions& options = {}, int64_t batch_size = 0);

/// Statistics of `data` accumulated in batches of `batch_size` rows (0: one batch).
LeaceStatistics accumulate_statistics(const LabeledData& data, int64_t batch_size = 0);

}  // namespace editgate::editors
