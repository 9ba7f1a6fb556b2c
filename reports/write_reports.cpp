#include "reports/write_reports.h"

#include <algorithm>
#include <array>
#include <vector>

#include "harness/atomic_file.h"
#include "harness/output_guard.h"
#include "reports/html_writer.h"
#include "reports/json_report_writer.h"
#include "reports/junit_writer.h"
#include "reports/report_format.h"

namespace editgate::reports {
namespace {

constexpr size_t kColumns = 6;
using Row = std::array<std::string, kColumns>;

// Display width: UTF-8 code points (the marks and signs used here are one column each).
size_t width(const std::string& s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

std::string render(const std::vector<Row>& rows) {
  std::array<size_t, kColumns> w{};
  for (const auto& r : rows) {
    for (size_t i = 0; i < kColumns; ++i) w[i] = std::max(w[i], width(r[i]));
  }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < kColumns; ++i) {
      line += r[i];
      if (i + 1 < kColumns) line += std::string(w[i] - width(r[i]) + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

std::string mark(const harness::GateResult& g, const SummaryOptions& o) {
  std::string m = g.passed ? (o.unicode ? "\u2713" : "PASS") : (o.unicode ? "\u2717" : "FAIL");
  if (g.no_data) m = "no data (" + gate_no_data_reason(g) + ")";
  if (g.report_only) m += " (report-only)";
  return m;
}

// "verdict: PASS (5 gates, 0 failed, 1 no data)", and why a run without a
// failed gate did not pass.
std::string verdict_line(const harness::RunReport& report) {
  size_t failed = 0, report_only_failed = 0, no_data = 0;
  for (const auto& g : report.gates) {
    if (harness::gate_failed(g)) (g.report_only ? report_only_failed : failed) += 1;
    no_data += g.no_data ? 1 : 0;
  }
  std::string verdict = report.passed ? "verdict: PASS" : "verdict: FAIL";
  verdict += " (" + std::to_string(report.gates.size()) + " gates, " + std::to_string(failed) + " failed";
  if (report_only_failed > 0) verdict += ", " + std::to_string(report_only_failed) + " report-only failed";
  if (no_data > 0) verdict += ", " + std::to_string(no_data) + " no data";
  verdict += ")";
  if (harness::enforced_gates_lack_data(report.gates)) verdict += ": no enforced gate had data";
  return verdict;
}

// True when `dir` is absent or holds nothing but editgate's three reports, so
// it can be replaced as a whole.
bool owned_report_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return true;
  if (!std::filesystem::is_directory(dir, ec)) return false;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const auto name = entry.path().filename().string();
    if (name != kReportJsonFile && name != kJunitXmlFile && name != kReportHtmlFile && name != harness::kOutputMarkerFile) {
      return false;
    }
  }
  return true;
}

}  // namespace

void write_reports(const harness::RunReport& report, const std::filesystem::path& dir) {
  const std::string json = report_json(report);
  const std::string xml = junit_xml(report);
  const std::string html = report_html(report);
  const auto write_three = [&](const std::filesystem::path& to) {
    write_file_atomic(to / kJunitXmlFile, xml);
    write_file_atomic(to / kReportHtmlFile, html);
    write_file_atomic(to / harness::kOutputMarkerFile, harness::output_marker(harness::kReportOutput));
    write_file_atomic(to / kReportJsonFile, json);  // last: report.json present => the set is complete
  };
  // A report directory of its own is replaced as one unit (the three reports of
  // one run, or the previous run's); a shared one (`--report-dir .`) gets the
  // files one by one, each atomic.
  if (owned_report_dir(dir)) {
    write_directory_atomic(dir, write_three);
  } else {
    write_three(dir);
  }
}

std::string summary_table(const harness::RunReport& report, const SummaryOptions& o) {
  std::vector<Row> rows;
  rows.push_back({"suite", "metric", "value", "95% CI", "bound", "result"});
  for (const auto& g : report.gates) {
    // A rate over no trials has no value to show (its 0 is a convention).
    std::string value = harness::has_no_data(g.measured) ? "-" : format_value(g.measured.value);
    if (g.measured.n > 0) value += " (n=" + std::to_string(g.measured.n) + ")";
    std::string bound = gate_rule(g, o.unicode);
    const bool derived = g.on != "point" || g.bound_kind == "max_drop_vs_base";
    if (derived && !g.no_data) bound += " [is " + format_value(g.tested_value) + "]";
    rows.push_back({g.suite, g.metric, value, format_interval(g.measured), bound, mark(g, o)});
  }
  for (const auto& s : report.suites) {
    if (s.skipped) {
      rows.push_back({s.name, "-", "-", "-", "-", "skipped: " + (s.skip_reason.empty() ? "no reason" : s.skip_reason)});
      continue;
    }
    if (!o.all_metrics) continue;
    for (const auto& m : s.metrics) {
      const bool gated = std::any_of(report.gates.begin(), report.gates.end(), [&](const harness::GateResult& g) {
        return g.suite == s.name && g.metric == m.name;
      });
      if (gated) continue;
      std::string value = format_value(m.value);
      if (m.n > 0) value += " (n=" + std::to_string(m.n) + ")";
      rows.push_back({s.name, m.name, value, format_interval(m), "", ""});
    }
  }
  std::string warnings;
  for (const auto& w : edit_warnings(report)) warnings += "edit warning: " + w + "\n";
  return sanitize_text(render(rows) + verdict_line(report) + "\n" + warnings);
}

}  // namespace editgate::reports
