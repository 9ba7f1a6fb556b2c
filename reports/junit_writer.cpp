#include "reports/junit_writer.h"

#include <pugixml.hpp>

#include <algorithm>
#include <sstream>

#include "harness/atomic_file.h"
#include "reports/report_format.h"

namespace editgate::reports {
namespace {

constexpr const char* kPackage = "editgate";
constexpr const char* kCaseFailureType = "editgate.case";
constexpr const char* kGateFailureType = "editgate.gate";

void set(pugi::xml_node node, const char* attr, const std::string& value) {
  node.append_attribute(attr).set_value(sanitize_text(value).c_str());
}

// Ant types names as non-empty tokens: whitespace collapses, so "" and " " are invalid.
std::string token_or(const std::string& s, const std::string& fallback) {
  return s.find_first_not_of(" \t\r\n") == std::string::npos ? fallback : s;
}

void property(pugi::xml_node props, const std::string& name, const std::string& value) {
  auto p = props.append_child("property");
  set(p, "name", token_or(name, "unnamed"));
  set(p, "value", value);
}

void metric_properties(pugi::xml_node props, const std::string& prefix, const harness::Metric& m, bool detail) {
  property(props, prefix + m.name, format_exact(m.value));
  if (!detail) return;
  if (m.ci_low && m.ci_high) {
    property(props, prefix + m.name + ".ci_low", format_exact(*m.ci_low));
    property(props, prefix + m.name + ".ci_high", format_exact(*m.ci_high));
  }
  if (m.n > 0) property(props, prefix + m.name + ".n", std::to_string(m.n));
}

std::string metric_line(const harness::Metric& m) {
  std::string s = m.name + " = " + format_value(m.value);
  const auto ci = format_interval(m);
  if (!ci.empty()) s += " 95% CI " + ci;
  if (m.n > 0) s += " n=" + std::to_string(m.n);
  if (!m.family.empty()) s += " (" + m.family + ")";
  return s;
}

std::string gate_result_word(const harness::GateResult& g) {
  if (g.passed) return "pass";
  if (g.no_data) return "no data (" + gate_no_data_reason(g) + ")";
  return g.report_only ? "fail (report-only)" : "fail";
}

struct Counts {
  int tests = 0, failures = 0, skipped = 0;
};

void add_case(pugi::xml_node suite, const std::string& suite_name, const harness::CaseResult& c, size_t index,
              bool skipped, const std::string& skip_reason, Counts& counts) {
  auto tc = suite.append_child("testcase");
  const std::string name = c.name.empty() ? "case" + std::to_string(index) : c.name;
  set(tc, "name", name);
  set(tc, "classname", suite_name);
  set(tc, "time", format_seconds(c.seconds));
  ++counts.tests;
  if (skipped) {
    set(tc.append_child("skipped"), "message", skip_reason);
    ++counts.skipped;
  } else if (!c.passed) {
    auto f = tc.append_child("failure");
    set(f, "message", c.message.empty() ? "case failed" : c.message);
    set(f, "type", kCaseFailureType);
    std::string body = c.message + "\n";
    if (!c.case_id.empty()) body += "case_id: " + c.case_id + "\n";
    for (const auto& m : c.metrics) body += metric_line(m) + "\n";
    f.text().set(sanitize_text(body).c_str());
    ++counts.failures;
  }
}

void add_gate_case(pugi::xml_node suite, const harness::RunReport& report, const harness::GateResult& g,
                   Counts& counts) {
  auto tc = suite.append_child("testcase");
  set(tc, "name", "gate." + g.metric);
  set(tc, "classname", g.suite);
  set(tc, "time", format_seconds(0));
  ++counts.tests;
  const std::string statement = gate_statement(g, gate_base_value(report, g));
  // When every enforced gate lacks data the run fails on them, and CI must
  // show that failure; otherwise no data is neither a pass nor a failure.
  const bool fails_run = !g.report_only && g.no_data && harness::enforced_gates_lack_data(report.gates);
  if (g.no_data && !fails_run) {
    set(tc.append_child("skipped"), "message", "no data: " + statement);
    ++counts.skipped;
    return;
  }
  if (g.report_only || !(harness::gate_failed(g) || fails_run)) return;
  const std::string message =
      fails_run ? "no data: " + statement + "; no enforced gate of this run had data" : statement;
  auto f = tc.append_child("failure");
  set(f, "message", message);
  set(f, "type", kGateFailureType);
  f.text().set(sanitize_text("gate failed: " + message + "\n").c_str());
  ++counts.failures;
}

void run_properties(pugi::xml_node props, const harness::RunReport& report) {
  const auto& m = report.meta;
  property(props, "editgate.verdict", report.passed ? "pass" : "fail");
  property(props, "editgate.version", m.editgate_version);
  property(props, "editgate.base_sha256", m.base_sha256);
  property(props, "editgate.edited_sha256", m.edited_sha256);
  property(props, "editgate.requests_sha256", m.requests_sha256);
  property(props, "editgate.device", m.device);
  property(props, "editgate.seed", std::to_string(m.seed));
}

// One <testsuite>; `suite` is null for gates whose suite is not in the report.
void add_suite(pugi::xml_node root, const harness::RunReport& report, const harness::SuiteResult* suite,
               const std::string& name, int id) {
  auto ts = root.append_child("testsuite");
  set(ts, "name", token_or(name, "suite" + std::to_string(id)));
  set(ts, "package", kPackage);
  set(ts, "id", std::to_string(id));
  set(ts, "hostname", token_or(report_hostname(report.meta), "localhost"));
  set(ts, "timestamp", junit_timestamp(report.meta.timestamp));
  // Counts are known only after the cases; attributes keep insertion order, so
  // add them now and fill them in at the end.
  auto tests = ts.append_attribute("tests"), failures = ts.append_attribute("failures");
  set(ts, "errors", "0");
  auto skipped = ts.append_attribute("skipped");
  set(ts, "time", format_seconds(suite ? suite->seconds : 0));

  auto props = ts.append_child("properties");
  run_properties(props, report);
  std::string out;
  Counts counts;
  if (suite) {
    if (suite->skipped) property(props, "skip_reason", suite->skip_reason);
    for (const auto& m : suite->metrics) {
      metric_properties(props, "", m, true);
      out += metric_line(m) + "\n";
    }
  }
  for (const auto& g : report.gates) {
    if (g.suite != name) continue;
    property(props, "gate." + g.metric, gate_result_word(g));
    property(props, "gate." + g.metric + ".statement", gate_statement(g, gate_base_value(report, g)));
    out += "gate " + gate_result_word(g) + ": " + gate_statement(g, gate_base_value(report, g)) + "\n";
  }
  if (suite) {
    for (const auto& c : suite->cases) {
      for (const auto& m : c.metrics) metric_properties(props, "case." + c.name + ".", m, false);
    }
    for (size_t i = 0; i < suite->cases.size(); ++i) {
      add_case(ts, name, suite->cases[i], i, suite->skipped, suite->skip_reason, counts);
    }
    if (suite->skipped && suite->cases.empty()) {
      harness::CaseResult whole;
      whole.name = name;
      add_case(ts, name, whole, 0, true, suite->skip_reason, counts);
    }
    if (suite->skipped) out += "skipped: " + suite->skip_reason + "\n";
  }
  for (const auto& g : report.gates) {
    if (g.suite == name) add_gate_case(ts, report, g, counts);
  }
  ts.append_child("system-out").text().set(sanitize_text(out).c_str());
  ts.append_child("system-err");
  tests.set_value(counts.tests);
  failures.set_value(counts.failures);
  skipped.set_value(counts.skipped);
}

}  // namespace

std::string junit_xml(const harness::RunReport& report) {
  pugi::xml_document doc;
  auto decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version").set_value("1.0");
  decl.append_attribute("encoding").set_value("UTF-8");
  auto root = doc.append_child("testsuites");
  int id = 0;
  for (const auto& s : report.suites) add_suite(root, report, &s, s.name, id++);
  // Gates naming a suite the report does not hold get a testsuite of their own.
  std::vector<std::string> orphans;
  for (const auto& g : report.gates) {
    bool known = false;
    for (const auto& s : report.suites) known = known || s.name == g.suite;
    if (!known && std::find(orphans.begin(), orphans.end(), g.suite) == orphans.end()) orphans.push_back(g.suite);
  }
  for (const auto& name : orphans) add_suite(root, report, nullptr, name, id++);
  std::ostringstream os;
  doc.save(os, "  ", pugi::format_indent, pugi::encoding_utf8);
  return os.str();
}

void write_junit_xml(const harness::RunReport& report, const std::filesystem::path& path) {
  write_file_atomic(path, junit_xml(report));
}

}  // namespace editgate::reports
