#include "reports/json_report_writer.h"

#include "harness/atomic_file.h"
#include "reports/figures.h"
#include "reports/report_format.h"

namespace editgate::reports {
namespace {

using nlohmann::json;

json metric_json(const harness::Metric& m) {
  json j = {{"name", m.name}, {"value", m.value}, {"n", m.n}, {"family", m.family}, {"description", m.description}};
  if (m.ci_low) j["ci_low"] = *m.ci_low;
  if (m.ci_high) j["ci_high"] = *m.ci_high;
  return j;
}

json metrics_json(const std::vector<harness::Metric>& ms) {
  json a = json::array();
  for (const auto& m : ms) a.push_back(metric_json(m));
  return a;
}

json metadata_json(const harness::RunMetadata& m) {
  json phases = json::object();
  for (const auto& [phase, seconds] : m.phase_seconds) phases[phase] = seconds;
  json out = {{"editgate_version", m.editgate_version},
          {"base_dir", m.base_dir},
          {"base_sha256", m.base_sha256},
          {"edited_dir", m.edited_dir},
          {"edited_sha256", m.edited_sha256},
          {"requests_path", m.requests_path},
          {"requests_sha256", m.requests_sha256},
          {"eraser_path", m.eraser_path},
          {"device", m.device},
          {"seed", m.seed},
          {"hostname", m.hostname},
          {"timestamp", m.timestamp},
          {"phase_seconds", std::move(phases)}};
  if (!m.rerun_json.empty()) out["rerun"] = json::parse(m.rerun_json);
  return out;
}

const char* gate_status(const harness::GateResult& g) {
  if (g.no_data) return "no_data";
  return g.passed ? "pass" : "fail";
}

json gate_json(const harness::RunReport& report, const harness::GateResult& g) {
  const auto base = gate_base_value(report, g);
  json j = {{"suite", g.suite},
            {"metric", g.metric},
            {"bound_kind", g.bound_kind},
            {"bound", g.bound},
            {"on", g.on},
            {"tested_value", g.tested_value},
            {"passed", g.passed},
            {"status", gate_status(g)},
            {"report_only", g.report_only},
            {"statement", gate_statement(g, base)},
            {"measured", metric_json(g.measured)}};
  if (base) j["base_value"] = *base;
  return j;
}

json suite_json(const harness::RunReport& report, const harness::SuiteResult& s) {
  json cases = json::array();
  for (const auto& c : s.cases) {
    cases.push_back({{"name", c.name},
                     {"case_id", c.case_id},
                     {"passed", c.passed},
                     {"message", c.message},
                     {"seconds", c.seconds},
                     {"metrics", metrics_json(c.metrics)}});
  }
  return {{"name", s.name},
          {"status", suite_status(report, s)},
          {"skip_reason", s.skip_reason},
          {"seconds", s.seconds},
          {"metrics", metrics_json(s.metrics)},
          {"cases", std::move(cases)}};
}

json summary_json(const harness::RunReport& r) {
  int64_t skipped = 0, cases = 0, cases_failed = 0, gates_failed = 0, report_only_failed = 0, no_data = 0;
  for (const auto& s : r.suites) {
    skipped += s.skipped ? 1 : 0;
    cases += static_cast<int64_t>(s.cases.size());
    for (const auto& c : s.cases) cases_failed += c.passed ? 0 : 1;
  }
  for (const auto& g : r.gates) {
    if (harness::gate_failed(g)) (g.report_only ? report_only_failed : gates_failed) += 1;
    no_data += g.no_data ? 1 : 0;
  }
  return {{"suites", r.suites.size()},     {"suites_skipped", skipped},
          {"cases", cases},                {"cases_failed", cases_failed},
          {"gates", r.gates.size()},       {"gates_failed", gates_failed},
          {"gates_report_only_failed", report_only_failed}, {"gates_no_data", no_data}};
}

}  // namespace

std::string suite_status(const harness::RunReport& report, const harness::SuiteResult& suite) {
  if (suite.skipped) return "skipped";
  for (const auto& c : suite.cases) {
    if (!c.passed) return "failed";
  }
  for (const auto& g : report.gates) {
    if (g.suite == suite.name && harness::gate_failed(g) && !g.report_only) return "failed";
  }
  return "passed";
}

json report_to_json(const harness::RunReport& report) {
  json gates = json::array();
  for (const auto& g : report.gates) gates.push_back(gate_json(report, g));
  json suites = json::array();
  for (const auto& s : report.suites) suites.push_back(suite_json(report, s));
  json figures = json::object();
  json figure_errors = json::object();
  for (auto& f : check_figures(report.figures)) {
    if (f.error.empty()) {
      figures[f.key] = std::move(f.value);
    } else {
      figure_errors[f.key] = f.error;
    }
  }
  return {{"schema_version", harness::RunReport::kSchemaVersion},
          {"verdict", report.passed ? "pass" : "fail"},
          {"passed", report.passed},
          {"metadata", metadata_json(report.meta)},
          {"summary", summary_json(report)},
          {"gates", std::move(gates)},
          {"suites", std::move(suites)},
          {"figures", std::move(figures)},
          {"figure_errors", std::move(figure_errors)}};
}

std::string report_json(const harness::RunReport& report) {
  return report_to_json(report).dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

void write_report_json(const harness::RunReport& report, const std::filesystem::path& path) {
  write_file_atomic(path, report_json(report));
}

}  // namespace editgate::reports
