#include "editors/probe_recovery.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

namespace editgate::editors {
namespace {

// The probe parts with `e` applied (rows stay paired, so the parts stay disjoint).
ProbeSplit erased(const Eraser& e, const ErasureSplit& split) {
  return split.probe_transformed([&](const at::Tensor& x) { return e.apply(x.to(at::kDouble)); });
}

}  // namespace

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
  const ProbeSplit after = erased(ev.eraser, split);
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
    ev.inlp_linear_after = probe_logistic(erased(ev.inlp->eraser, split), probes.logistic);
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
