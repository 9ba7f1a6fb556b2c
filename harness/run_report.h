#pragma once
// RunReport: everything one `editgate gate` run measured and decided, as plain
// data. Suites fill the measurements, gates.h fills the gate results and the
// verdict, and reports/ writes it as report.json, junit.xml and report.html.
// This unit owns only the shape of that data (and the Wilson interval every
// rate carries); it computes and writes nothing else.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace editgate::harness {

// A measured quantity. Rates carry n and a Wilson 95 % interval; other
// quantities (a mean NLL, an entropy) leave n = 0 and the interval empty, so
// `is_rate` tells a rate over no trials (no data) from a quantity that has no n.
struct Metric {
  std::string name;         // "efficacy_top1", "neighborhood_keeps_old", ...
  double value = 0;
  int64_t n = 0;            // trials behind a rate; 0 for non-rates
  std::optional<double> ci_low;   // Wilson 95 % lower bound (rates only)
  std::optional<double> ci_high;  // Wilson 95 % upper bound (rates only)
  std::string family;       // "counterfact" | "easyedit" | "" — which convention defines it
  std::string description;  // one line for tables and tooltips
  bool is_rate = false;     // a proportion of n trials (rate_metric, probe accuracies)
};

// A rate over no trials: its value (0) measures nothing, so no gate can decide on it.
bool has_no_data(const Metric& m);

// Wilson score interval at 95 % (z = 1.96) for k successes in n trials.
Metric rate_metric(std::string name, int64_t successes, int64_t n, std::string family = {},
                   std::string description = {});

// One test case: one edit (or erasure) case checked by one suite.
struct CaseResult {
  std::string name;  // sanitised to [A-Za-z0-9_], unique within its suite
  std::string case_id;  // the request's own id
  bool passed = true;
  std::string message;  // why it failed: which facts, value vs expectation
  std::vector<Metric> metrics;
  double seconds = 0;
};

struct SuiteResult {
  std::string name;  // "Efficacy", "FactPreservation", ...
  std::vector<CaseResult> cases;
  std::vector<Metric> metrics;  // aggregated over the cases; what gates test
  double seconds = 0;
  bool skipped = false;
  std::string skip_reason;
  // Figures this suite contributes to RunReport::figures (name -> JSON text).
  std::map<std::string, std::string> figures;
};

struct GateResult {
  std::string suite;
  std::string metric;
  std::string bound_kind;  // "min" | "max" | "max_drop_vs_base"
  double bound = 0;
  std::string on;          // "point" | "wilson_lower" | "wilson_upper"
  double tested_value = 0; // the number compared with the bound
  Metric measured;         // value, interval, n
  bool passed = false;
  // The metric (or, for max_drop_vs_base, its base) is a rate over n = 0 trials:
  // the gate neither passed nor failed (`passed` stays false) and does not
  // fail the run on its own; see RunReport::passed.
  bool no_data = false;
  bool report_only = false;  // shown, never fails the run
};

// Failed, as opposed to passed or without data.
bool gate_failed(const GateResult& g);

// There are enforced (non-report-only) gates and every one is no_data: the run
// measured nothing it is gated on, which RunReport::passed does not pass.
bool enforced_gates_lack_data(const std::vector<GateResult>& gates);

struct RunMetadata {
  std::string editgate_version;
  std::string base_dir, edited_dir;
  std::string base_sha256, edited_sha256;
  std::string requests_path, requests_sha256;
  std::string eraser_path;
  std::string device;
  uint64_t seed = 0;
  std::string hostname;
  std::string timestamp;  // UTC, "YYYY-MM-DDThh:mm:ss" (no fraction: Ant JUnit requires it)
  std::map<std::string, double> phase_seconds;  // "load", "suites", "reports", ...
  // Everything else needed to rerun the verdict, as a JSON object's text
  // (libtorch version, every input file's path and sha256, suites, suite
  // options, the edit's method, hyperparameters, seed and context prefixes
  // from edit_manifest.json); empty: not recorded.
  std::string rerun_json;
};

struct RunReport {
  static constexpr int kSchemaVersion = 1;
  RunMetadata meta;
  std::vector<SuiteResult> suites;
  std::vector<GateResult> gates;
  // No enforced (non-report-only) gate failed, and unless there are none, at
  // least one of them had data: no-data gates are neutral, but a run that
  // measured nothing for any of its enforced gates does not pass.
  bool passed = false;
  // Extra figures for the HTML report (causal-tracing heatmap, CoT curve, ...),
  // as JSON text keyed by figure name; writers that do not know a figure skip it.
  std::map<std::string, std::string> figures;
};

/// The current time in RunMetadata::timestamp's form (UTC, "YYYY-MM-DDThh:mm:ss").
std::string utc_timestamp_now();

}  // namespace editgate::harness
