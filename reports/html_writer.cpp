#include "reports/html_writer.h"

#include <algorithm>
#include <cctype>

#include "harness/atomic_file.h"
#include "reports/figures.h"
#include "reports/json_report_writer.h"
#include "reports/report_format.h"
#include "reports/svg_figures.h"

namespace editgate::reports {
namespace {

// Per-suite "all cases" tables stop here; report.json holds every case.
constexpr size_t kMaxCaseRows = 2000;

constexpr const char* kStyle = R"css(
body { font-family: system-ui, sans-serif; margin: 24px auto; max-width: 1100px; color: #222; background: #fff; }
h1 { margin-bottom: 4px; } h2 { margin-top: 32px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.sub { color: #666; margin-top: 0; }
.verdict { font-size: 22px; font-weight: bold; padding: 14px 18px; border-radius: 6px; margin: 16px 0; }
.verdict.pass { background: #e3f4e8; color: #1b6b34; border: 2px solid #2e9e4f; }
.verdict.fail { background: #fbe5e3; color: #9b1c12; border: 2px solid #d0392b; }
.warnings { background: #fff6dc; border: 1px solid #e0b84c; border-radius: 6px; padding: 8px 14px; margin: 8px 0; }
.verdict .counts { font-size: 14px; font-weight: normal; color: #333; margin-top: 4px; }
table { border-collapse: collapse; margin: 8px 0 16px 0; font-size: 14px; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.fail td { background: #fdf0ee; }
.mark.pass { color: #1b6b34; font-weight: bold; } .mark.fail { color: #b0281b; font-weight: bold; }
.mark.ro { color: #a06000; font-weight: bold; } .mark.nodata { color: #555; font-style: italic; }
.badge { font-size: 13px; padding: 2px 8px; border-radius: 10px; margin-left: 8px; vertical-align: middle; }
.badge.passed { background: #e3f4e8; color: #1b6b34; } .badge.failed { background: #fbe5e3; color: #9b1c12; }
.badge.skipped { background: #eee; color: #555; }
.msg { white-space: pre-wrap; font-family: ui-monospace, monospace; font-size: 13px; }
.error { color: #9b1c12; }
figure { margin: 16px 0; } figcaption { color: #555; font-size: 13px; }
nav a { margin-right: 12px; }
)css";

std::string esc(std::string_view s) { return xml_escape(s); }

std::string cell(const std::string& s, const char* cls = nullptr) {
  return cls ? "<td class=\"" + std::string(cls) + "\">" + esc(s) + "</td>" : "<td>" + esc(s) + "</td>";
}

std::string anchor(const std::string& suite) {
  std::string id = "suite-";
  for (const char c : suite) id.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  return id;
}

std::string gate_mark(const harness::GateResult& g) {
  if (g.passed) return "<span class=\"mark pass\">\u2713 pass</span>";
  if (g.no_data) return "<span class=\"mark nodata\">\u2013 no data (" + esc(gate_no_data_reason(g)) + ")</span>";
  if (g.report_only) return "<span class=\"mark ro\">\u2717 fail (report-only)</span>";
  return "<span class=\"mark fail\">\u2717 FAIL</span>";
}

// The verdict's headline: what passed, or why not.
std::string verdict_line(const harness::RunReport& r) {
  size_t failed = 0, no_data = 0;
  for (const auto& g : r.gates) {
    failed += (harness::gate_failed(g) && !g.report_only) ? 1 : 0;
    no_data += g.no_data ? 1 : 0;
  }
  const std::string gates = std::to_string(r.gates.size());
  if (r.passed) {
    return no_data == 0 ? "PASS \u2014 every gate holds"
                        : "PASS \u2014 every gate with data holds (" + std::to_string(no_data) + " of " + gates +
                              " without data)";
  }
  if (failed > 0) return "FAIL \u2014 " + std::to_string(failed) + " of " + gates + " gates failed";
  if (harness::enforced_gates_lack_data(r.gates)) return "FAIL \u2014 no data: no enforced gate had any (n = 0)";
  return "FAIL";
}

void verdict(std::string& h, const harness::RunReport& r) {
  size_t cases = 0, cases_failed = 0, skipped = 0;
  for (const auto& s : r.suites) {
    skipped += s.skipped ? 1 : 0;
    cases += s.cases.size();
    for (const auto& c : s.cases) cases_failed += c.passed ? 0 : 1;
  }
  const char* cls = r.passed ? "pass" : "fail";
  h += "<div class=\"verdict " + std::string(cls) + "\" id=\"verdict\">" + esc(verdict_line(r)) +
       "<div class=\"counts\">" +
       esc(std::to_string(r.gates.size()) + " gates, " + std::to_string(r.suites.size()) + " suites (" +
           std::to_string(skipped) + " skipped), " + std::to_string(cases) + " cases (" +
           std::to_string(cases_failed) + " failed)") +
       "</div></div>\n";
}

// The editor's own warnings, under the verdict: they say why a gate may fail.
void warnings_section(std::string& h, const harness::RunReport& r) {
  const auto warnings = edit_warnings(r);
  if (warnings.empty()) return;
  h += "<div class=\"warnings\" id=\"warnings\"><strong>The editor warned:</strong><ul>\n";
  for (const auto& w : warnings) h += "<li>" + esc(w) + "</li>\n";
  h += "</ul></div>\n";
}

void gate_table(std::string& h, const harness::RunReport& r) {
  h += "<h2 id=\"gates\">Gates</h2>\n";
  if (r.gates.empty()) {
    h += "<p>No gates were evaluated.</p>\n";
    return;
  }
  h += "<table><thead><tr><th>result</th><th>suite</th><th>metric</th><th>value</th><th>95% CI</th><th>n</th>"
       "<th>tested</th><th>bound</th></tr></thead><tbody>\n";
  for (const auto& g : r.gates) {
    const bool bad = harness::gate_failed(g) && !g.report_only;
    h += bad ? "<tr class=\"fail\">" : "<tr>";
    h += "<td>" + gate_mark(g) + "</td>";
    h += "<td><a href=\"#" + anchor(g.suite) + "\">" + esc(g.suite) + "</a></td>";
    // A rate over no trials shows its n (0) and no value: its 0 is a convention, not a measurement.
    const bool empty_rate = harness::has_no_data(g.measured);
    h += cell(g.metric) + cell(empty_rate ? "\u2013" : format_value(g.measured.value), "num") +
         cell(format_interval(g.measured), "num");
    h += cell(g.measured.n > 0 || empty_rate ? std::to_string(g.measured.n) : "", "num");
    h += cell(g.no_data ? "not tested" : gate_tested_label(g) + " " + format_value(g.tested_value));
    h += cell(gate_rule(g, true));
    h += "</tr>\n";
  }
  h += "</tbody></table>\n";
  // Each gate that did not pass (failed or without data), with its statement.
  bool any_failed = false;
  for (const auto& g : r.gates) any_failed = any_failed || !g.passed;
  if (!any_failed) return;
  h += "<ul>\n";
  for (const auto& g : r.gates) {
    if (g.passed) continue;
    h += "<li class=\"msg\">" + esc(g.suite + "." + gate_statement(g, gate_base_value(r, g)) +
                                    (g.report_only ? " (report-only)" : "")) +
         "</li>\n";
  }
  h += "</ul>\n";
}

std::string metric_cells(const harness::Metric& m) {
  return cell(format_value(m.value), "num") + cell(format_interval(m), "num") +
         cell(m.n > 0 ? std::to_string(m.n) : "", "num");
}

std::string metrics_text(const std::vector<harness::Metric>& ms) {
  std::string s;
  for (const auto& m : ms) {
    if (!s.empty()) s += "\n";
    s += m.name + " = " + format_value(m.value);
    if (m.n > 0) s += " (n=" + std::to_string(m.n) + ")";
  }
  return s;
}

void suite_section(std::string& h, const harness::RunReport& r, const harness::SuiteResult& s) {
  const std::string status = suite_status(r, s);
  h += "<section id=\"" + anchor(s.name) + "\">\n<h2>" + esc(s.name) + "<span class=\"badge " + status + "\">" +
       status + "</span></h2>\n";
  if (s.skipped) {
    h += "<p>Skipped: " + esc(s.skip_reason.empty() ? "no reason given" : s.skip_reason) + "</p>\n</section>\n";
    return;
  }
  size_t failed = 0;
  for (const auto& c : s.cases) failed += c.passed ? 0 : 1;
  h += "<p class=\"sub\">" + esc(std::to_string(s.cases.size()) + " cases, " + std::to_string(failed) + " failed, " +
                                 format_value(s.seconds) + " s") +
       "</p>\n";
  if (!s.metrics.empty()) {
    h += "<table><thead><tr><th>metric</th><th>family</th><th>value</th><th>95% CI</th><th>n</th>"
         "<th>description</th></tr></thead><tbody>\n";
    for (const auto& m : s.metrics) {
      h += "<tr>" + cell(m.name) + cell(m.family) + metric_cells(m) + cell(m.description) + "</tr>\n";
    }
    h += "</tbody></table>\n";
  }
  if (failed > 0) {
    h += "<h3>Failed cases</h3>\n<table><thead><tr><th>case</th><th>case id</th><th>message</th><th>metrics</th>"
         "</tr></thead><tbody>\n";
    for (const auto& c : s.cases) {
      if (c.passed) continue;
      h += "<tr class=\"fail\">" + cell(c.name) + cell(c.case_id) + cell(c.message, "msg") +
           cell(metrics_text(c.metrics), "msg") + "</tr>\n";
    }
    h += "</tbody></table>\n";
  }
  if (!s.cases.empty()) {
    h += "<details><summary>All " + std::to_string(s.cases.size()) + " cases</summary>\n";
    h += "<table><thead><tr><th>case</th><th>result</th><th>metrics</th></tr></thead><tbody>\n";
    for (size_t i = 0; i < s.cases.size() && i < kMaxCaseRows; ++i) {
      const auto& c = s.cases[i];
      h += std::string(c.passed ? "<tr>" : "<tr class=\"fail\">") + cell(c.name) +
           "<td>" + (c.passed ? "<span class=\"mark pass\">\u2713</span>" : "<span class=\"mark fail\">\u2717</span>") +
           "</td>" + cell(metrics_text(c.metrics), "msg") + "</tr>\n";
    }
    h += "</tbody></table>\n";
    if (s.cases.size() > kMaxCaseRows) {
      h += "<p>" + std::to_string(s.cases.size() - kMaxCaseRows) + " more cases in report.json.</p>\n";
    }
    h += "</details>\n";
  }
  h += "</section>\n";
}

void figures_section(std::string& h, const harness::RunReport& r) {
  if (r.figures.empty()) return;
  h += "<h2 id=\"figures\">Figures</h2>\n";
  // The kinds in the order the issue lists them, then unknown kinds, each by key.
  auto rank = [](const CheckedFigure& f) {
    for (int i = 0; const auto kind : {kCausalTraceKind, kProbeKind, kCotCurveKind, kSequentialKind}) {
      if (f.kind == kind) return i;
      ++i;
    }
    return 4;
  };
  auto figures = check_figures(r.figures);
  std::stable_sort(figures.begin(), figures.end(),
                   [&](const CheckedFigure& a, const CheckedFigure& b) { return rank(a) < rank(b); });
  for (const auto& f : figures) {
    if (!f.error.empty()) {
      h += "<p class=\"error\">Figure not drawn: " + esc(f.error) + "</p>\n";
      continue;
    }
    const std::string svg = figure_svg(f);
    if (svg.empty()) {
      h += "<p>Figure '" + esc(f.key) + "' has a kind this report does not draw ('" + esc(f.kind) +
           "'); it is in report.json.</p>\n";
      continue;
    }
    h += "<figure>\n" + svg + "<figcaption>" + esc(f.key) + "</figcaption>\n</figure>\n";
  }
}

void metadata_section(std::string& h, const harness::RunReport& r) {
  const auto& m = r.meta;
  h += "<h2 id=\"run\">Run</h2>\n<table><tbody>\n";
  auto row = [&](const std::string& k, const std::string& v) {
    if (!v.empty()) h += "<tr><th>" + esc(k) + "</th>" + cell(v) + "</tr>\n";
  };
  row("editgate version", m.editgate_version);
  row("base checkpoint", m.base_dir);
  row("base sha256", m.base_sha256);
  row("edited checkpoint", m.edited_dir);
  row("edited sha256", m.edited_sha256);
  row("requests", m.requests_path);
  row("requests sha256", m.requests_sha256);
  row("eraser", m.eraser_path);
  row("device", m.device);
  row("seed", std::to_string(m.seed));
  row("host", m.hostname);
  row("timestamp (UTC)", m.timestamp);
  for (const auto& [phase, seconds] : m.phase_seconds) row("time: " + phase, format_value(seconds) + " s");
  h += "</tbody></table>\n";
}

}  // namespace

std::string report_html(const harness::RunReport& r) {
  std::string h;
  h.reserve(1 << 16);
  h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n";
  h += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\"/>\n";
  h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n";
  h += "<title>editgate report: " + esc(r.passed ? "PASS" : "FAIL") + "</title>\n";
  h += "<style>" + std::string(kStyle) + "</style>\n</head>\n<body>\n";
  h += "<h1>editgate report</h1>\n<p class=\"sub\">" +
       esc((r.meta.edited_dir.empty() ? std::string("edited model") : r.meta.edited_dir) + " against " +
           (r.meta.base_dir.empty() ? std::string("base model") : r.meta.base_dir) +
           (r.meta.timestamp.empty() ? "" : ", " + r.meta.timestamp)) +
       "</p>\n";
  verdict(h, r);
  warnings_section(h, r);
  gate_table(h, r);
  if (!r.suites.empty()) {
    h += "<nav>";
    for (const auto& s : r.suites) h += "<a href=\"#" + anchor(s.name) + "\">" + esc(s.name) + "</a>";
    h += "</nav>\n";
  }
  for (const auto& s : r.suites) suite_section(h, r, s);
  figures_section(h, r);
  metadata_section(h, r);
  h += "</body>\n</html>\n";
  return h;
}

void write_report_html(const harness::RunReport& report, const std::filesystem::path& path) {
  write_file_atomic(path, report_html(report));
}

}  // namespace editgate::reports
