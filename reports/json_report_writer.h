#pragma once
// report.json: the machine-readable record of one run. This unit owns the
// document's layout (versioned by schema_version and described by
// reports/report.schema.json); the data comes from harness::RunReport and the
// figure shapes from reports/figures.h.
//
// Layout (schema_version 1):
//   {"schema_version": 1, "verdict": "pass"|"fail", "passed": bool,
//    "metadata": {editgate_version, base_dir, base_sha256, edited_dir, edited_sha256,
//                 requests_path, requests_sha256, eraser_path, device, seed,
//                 hostname, timestamp, phase_seconds: {phase: seconds}},
//    "summary": {suites, suites_skipped, cases, cases_failed, gates, gates_failed,
//                gates_report_only_failed, gates_no_data},
//    "gates": [{suite, metric, bound_kind, bound, on, tested_value, base_value?,
//               passed, status: "pass"|"fail"|"no_data", report_only, statement,
//               measured: <metric>}],   (no_data: a rate over n = 0; passed is false)
//    "suites": [{name, status: "passed"|"failed"|"skipped", skip_reason, seconds,
//                metrics: [<metric>],
//                cases: [{name, case_id, passed, message, seconds, metrics: [<metric>]}]}],
//    "figures": {key: <figure JSON>}, "figure_errors": {key: message}}
//   <metric> = {name, value, n, ci_low?, ci_high?, family, description}
// Non-finite numbers are written as null.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "harness/run_report.h"

namespace editgate::reports {

// The report as a JSON value (what report.json holds).
nlohmann::json report_to_json(const harness::RunReport& report);

// report.json's text: indented, invalid UTF-8 replaced by U+FFFD.
std::string report_json(const harness::RunReport& report);

// Writes report_json(report) to `path` atomically (temp file + rename).
void write_report_json(const harness::RunReport& report, const std::filesystem::path& path);

// "passed" | "failed" | "skipped": skipped when the suite did not run, failed
// when a case failed or a gate on the suite that is not report-only failed
// (a no_data gate did not fail).
std::string suite_status(const harness::RunReport& report, const harness::SuiteResult& suite);

}  // namespace editgate::reports
