#pragma once
// Gates: the release rules. A gate spec (JSON) bounds suite metrics; evaluating
// it against a RunReport's measurements fills the gate results and the verdict.
// This unit owns the spec format, its validation and the comparison; suites
// own the measurements and reports/ the presentation.
//
// Spec format:
//   {"gates": [
//      {"suite": "Efficacy", "metric": "efficacy_top1", "min": 0.99, "on": "point"},
//      {"suite": "LinearProbeRecovery", "metric": "probe_accuracy_above_chance", "max": 0.02,
//       "on": "wilson_lower"},
//      {"suite": "ErasureImpact", "metric": "fact_recall", "max_drop_vs_base": 0.02},
//      {"suite": "RippleEffects", "metric": "subject_aliasing", "min": 0.5, "report_only": true}]}
// Exactly one of min / max / max_drop_vs_base. "on" (default "point") picks the
// point estimate or a Wilson bound. max_drop_vs_base compares with the metric
// named "<metric>_base" of the same suite (absolute drop, base - value).

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "harness/run_report.h"

namespace editgate::harness {

struct GateRule {
  std::string suite;
  std::string metric;
  std::string bound_kind;  // "min" | "max" | "max_drop_vs_base"
  double bound = 0;
  std::string on = "point";
  bool report_only = false;
};

struct GateSpec {
  std::vector<GateRule> rules;

  // The default gates (the suite table of docs/design.md).
  static GateSpec defaults();
  static GateSpec load(const std::filesystem::path& path);
  static GateSpec from_json(const nlohmann::json& j, const std::string& path);
  nlohmann::json to_json() const;
};

// Fills report.gates and report.passed. A rule whose suite did not run (absent
// or skipped) is dropped, so a spec can cover suites a run does not select; a
// rule naming a metric the suite does not produce is an InputError listing the
// metrics it does produce (`spec_path` names the file). A gate on a rate over
// n = 0 trials (or whose max_drop_vs_base base is one) is no_data: neither
// passed nor failed; RunReport::passed says how that enters the verdict.
void evaluate_gates(const GateSpec& spec, RunReport& report, const std::string& spec_path = "gate spec");

}  // namespace editgate::harness
