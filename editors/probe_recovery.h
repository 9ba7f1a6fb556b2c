#pragma once
// Probe recovery: how much of a concept probes can still read, before and after
// erasure, on held-out data. The entry points take the split types of
// erasure_split.h, so the eraser is fitted on the fit part only and the probes
// are trained and scored on the other two: fitting the eraser on the probe's
// own rows is not expressible here. This unit owns the orchestration and its
// report; the probes, metrics and erasers live in their own units.

#include <ATen/core/Tensor.h>
#include <nlohmann/json_fwd.hpp>

#include <optional>

#include "editors/erasure_split.h"
#include "editors/inlp.h"
#include "editors/leace.h"
#include "editors/logistic_probe.h"
#include "editors/probe_metrics.h"
#include "editors/quadratic_probe.h"

namespace editgate::editors {

/// The probe parts of `split` with `eraser` applied (float64; rows stay paired,
/// so the parts stay disjoint).
ProbeSplit erased_probe_parts(const Eraser& eraser, const ErasureSplit& split);

/// Logistic probe trained on split.train(), scored on split.test().
ProbeReport probe_logistic(const ProbeSplit& split, const LogisticProbeOptions& options = {});
/// Quadratic (QDA) probe trained on split.train(), scored on split.test().
ProbeReport probe_quadratic(const ProbeSplit& split, const QuadraticProbeOptions& options = {});

/// k-fold cross-validation by subject over both probe parts: the parts are
/// pooled, every subject is held out once (group_folds), and the held-out
/// predictions of all folds are scored together. Every probe subject is then
/// a test subject, so the estimate depends far less on which subjects one
/// split happened to hold out (on the fixture, one split read gender at 0.504
/// after LEACE where the cross-validated probe reads 0.60).
struct CrossValidation {
  int64_t folds = 5;
  uint64_t seed = 0;
};
ProbeReport probe_logistic_cv(const ProbeSplit& split, const CrossValidation& cv = {},
                              const LogisticProbeOptions& options = {});
ProbeReport probe_quadratic_cv(const ProbeSplit& split, const CrossValidation& cv = {},
                               const QuadraticProbeOptions& options = {});

struct ProbeSuiteOptions {
  LogisticProbeOptions logistic;
  bool quadratic = true;             // also run the QDA probe (non-linear leakage)
  QuadraticProbeOptions quadratic_options;
  bool inlp = false;                 // also fit INLP on the fit part and report it beside LEACE
  InlpOptions inlp_options;
};

struct ErasureEvaluation {
  Eraser eraser;                     // fitted on split.fit() only
  LeaceFitReport fit;
  double mean_squared_change = 0.0;  // E‖x - x'‖² over probe_test rows
  ProbeReport linear_before, linear_after;
  std::optional<ProbeReport> quadratic_before, quadratic_after;
  std::optional<InlpResult> inlp;    // with its own probe_after and change below
  std::optional<ProbeReport> inlp_linear_after;
  double inlp_mean_squared_change = 0.0;

  nlohmann::json to_json() const;
};

/// Fits LEACE on split.fit(), applies it to the probe parts, and probes both
/// versions. INLP, when asked, trains on 70 % of the fit part and judges on the rest.
ErasureEvaluation evaluate_erasure(const ErasureSplit& split, const LeaceOptions& leace = {},
                                   const ProbeSuiteOptions& probes = {});

/// E‖x - eraser(x)‖² over the rows of x [n, d].
double mean_squared_change(const Eraser& eraser, const at::Tensor& x);

}  // namespace editgate::editors
