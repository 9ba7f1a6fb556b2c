#include "editors/probe_recovery.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <functional>

namespace editgate::editors {
namespace {

// Both probe parts as one. The parts share no subject, so the test part's ids
// are shifted past the train part's: parts numbered independently cannot merge
// two subjects into one group.
LabeledData pooled(const ProbeSplit& split) {
  const LabeledData& a = split.train();
  const LabeledData& b = split.test();
  LabeledData out{at::cat({a.x, b.x.to(a.x.options())}, 0), at::cat({a.z, b.z.to(a.z.device())}, 0), a.num_classes};
  if (a.groups.defined() && b.groups.defined()) {
    const at::Tensor ga = a.groups.to(at::kCPU, at::kLong);
    const at::Tensor gb = b.groups.to(at::kCPU, at::kLong);
    out.groups = at::cat({ga, gb - gb.min() + ga.max() + 1}, 0);
  }
  return out;
}

// Held-out log-probabilities [n, k] of `fit_predict(train part, test rows)` over
// the folds, then the one report over all rows.
ProbeReport cross_validate(const ProbeSplit& split, const CrossValidation& cv,
                           const std::function<at::Tensor(const LabeledData&, const at::Tensor&)>& fit_predict) {
  const LabeledData all = pooled(split);
  const at::Tensor fold = group_folds(all.z, all.groups, cv.folds, cv.seed);
  at::Tensor log_proba = at::empty({all.size(), all.num_classes}, at::kDouble);
  for (int64_t f = 0; f < cv.folds; ++f) {
    const at::Tensor held = (fold == f).nonzero().flatten();
    const at::Tensor kept = (fold != f).nonzero().flatten();
    const LabeledData train = select_rows(all, kept);
    const at::Tensor x_held = all.x.index_select(0, held.to(all.x.device()));
    log_proba.index_copy_(0, held, fit_predict(train, x_held).to(at::kCPU, at::kDouble));
  }
  ProbeReport r = score_predictions(log_proba, all.z, class_counts(all.z, all.num_classes), all.groups);
  r.n_train = all.size() - all.size() / cv.folds;  // rows each fold's probe trains on, about
  r.folds = cv.folds;
  return r;
}

}  // namespace

ProbeSplit erased_probe_parts(const Eraser& eraser, const ErasureSplit& split) {
  return split.probe_transformed([&](const at::Tensor& x) { return eraser.apply(x.to(at::kDouble)); });
}

ProbeReport probe_logistic(const ProbeSplit& split, const LogisticProbeOptions& options) {
  const LogisticProbe probe = LogisticProbe::fit(split.train(), options);
  ProbeReport r = score_predictions(probe.log_proba(split.test().x), split.test().z,
                                    class_counts(split.train().z, split.train().num_classes), split.test().groups);
  r.probe = "logistic";
  r.iterations = probe.optimisation().iterations;
  r.converged = probe.optimisation().converged;
  return r;
}

ProbeReport probe_quadratic(const ProbeSplit& split, const QuadraticProbeOptions& options) {
  const QuadraticProbe probe = QuadraticProbe::fit(split.train(), options);
  ProbeReport r = score_predictions(probe.log_proba(split.test().x), split.test().z,
                                    class_counts(split.train().z, split.train().num_classes), split.test().groups);
  r.probe = "quadratic";
  return r;
}

ProbeReport probe_logistic_cv(const ProbeSplit& split, const CrossValidation& cv, const LogisticProbeOptions& options) {
  int64_t iterations = 0;
  bool converged = true;
  ProbeReport r = cross_validate(split, cv, [&](const LabeledData& train, const at::Tensor& x) {
    const LogisticProbe probe = LogisticProbe::fit(train, options);
    iterations = std::max(iterations, probe.optimisation().iterations);
    converged = converged && probe.optimisation().converged;
    return probe.log_proba(x);
  });
  r.probe = "logistic";
  r.iterations = iterations;
  r.converged = converged;
  return r;
}

ProbeReport probe_quadratic_cv(const ProbeSplit& split, const CrossValidation& cv,
                               const QuadraticProbeOptions& options) {
  ProbeReport r = cross_validate(split, cv, [&](const LabeledData& train, const at::Tensor& x) {
    return QuadraticProbe::fit(train, options).log_proba(x);
  });
  r.probe = "quadratic";
  return r;
}

double mean_squared_change(const Eraser& eraser, const at::Tensor& x) {
  const at::Tensor xd = x.to(at::kDouble);
  return (xd - eraser.apply(xd)).square().sum(1).mean().item<double>();
}

ErasureEvaluation evaluate_erasure(const ErasureSplit& split, const LeaceOptions& leace,
                                   const ProbeSuiteOptions& probes) {
  LeaceFit fit = fit_leace(split.fit(), leace);
  ErasureEvaluation ev;
  ev.eraser = fit.eraser;
  ev.fit = fit.report;
  ev.mean_squared_change = mean_squared_change(ev.eraser, split.probe_test().x);
  const ProbeSplit before = split.probe();
  const ProbeSplit after = erased_probe_parts(ev.eraser, split);
  ev.linear_before = probe_logistic(before, probes.logistic);
  ev.linear_after = probe_logistic(after, probes.logistic);
  if (probes.quadratic) {
    ev.quadratic_before = probe_quadratic(before, probes.quadratic_options);
    ev.quadratic_after = probe_quadratic(after, probes.quadratic_options);
  }
  if (probes.inlp) {
    // INLP needs its own held-out judge: split the fit part again, never touching the probe parts.
    const ProbeSplit inner = ProbeSplit::stratified(split.fit(), 0.3, /*seed=*/0);
    ev.inlp = fit_inlp(inner.train(), inner.test(), probes.inlp_options);
    ev.inlp_linear_after = probe_logistic(erased_probe_parts(ev.inlp->eraser, split), probes.logistic);
    ev.inlp_mean_squared_change = mean_squared_change(ev.inlp->eraser, split.probe_test().x);
  }
  return ev;
}

nlohmann::json ErasureEvaluation::to_json() const {
  nlohmann::json j{{"fit", fit.to_json()},
                   {"mean_squared_change", mean_squared_change},
                   {"linear_before", linear_before.to_json()},
                   {"linear_after", linear_after.to_json()},
                   {"guarantee", "LEACE guards against linear probes only; a non-linear probe may still "
                                 "recover the concept"}};
  if (quadratic_before) j["quadratic_before"] = quadratic_before->to_json();
  if (quadratic_after) j["quadratic_after"] = quadratic_after->to_json();
  if (inlp) {
    j["inlp"] = inlp->to_json();
    j["inlp"]["mean_squared_change"] = inlp_mean_squared_change;
    j["inlp"]["linear_after"] = inlp_linear_after->to_json();
  }
  return j;
}

}  // namespace editgate::editors
