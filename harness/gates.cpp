#include "harness/gates.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "harness/input_error.h"
#include "harness/json_file.h"

namespace editgate::harness {
namespace {

using nlohmann::json;

const Metric* find_metric(const SuiteResult& s, const std::string& name) {
  for (const auto& m : s.metrics) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

std::string metric_names(const SuiteResult& s) {
  std::string out;
  for (const auto& m : s.metrics) {
    if (!m.name.ends_with("_base")) out += (out.empty() ? "" : ", ") + m.name;
  }
  return out.empty() ? "(none)" : out;
}

GateRule parse_rule(const json& r, const std::string& path, size_t i) {
  const std::string where = "gates[" + std::to_string(i) + "]";
  if (!r.is_object()) throw InputError(path, where, "an object", r.type_name());
  GateRule g;
  for (const char* key : {"suite", "metric"}) {
    if (!r.contains(key) || !r[key].is_string() || r[key].get<std::string>().empty()) {
      throw InputError(path, where + "." + key, "a non-empty string", r.contains(key) ? r[key].dump() : "nothing");
    }
  }
  g.suite = r["suite"].get<std::string>();
  g.metric = r["metric"].get<std::string>();
  int bounds = 0;
  for (const char* key : {"min", "max", "max_drop_vs_base"}) {
    if (!r.contains(key)) continue;
    if (!r[key].is_number()) throw InputError(path, where + "." + key, "a number", r[key].dump());
    g.bound_kind = key;
    g.bound = r[key].get<double>();
    ++bounds;
  }
  if (bounds != 1) {
    throw InputError(path, where, "exactly one of min, max, max_drop_vs_base", std::to_string(bounds) + " of them");
  }
  if (r.contains("on")) {
    if (!r["on"].is_string()) throw InputError(path, where + ".on", "a string", r["on"].dump());
    g.on = r["on"].get<std::string>();
    if (g.on != "point" && g.on != "wilson_lower" && g.on != "wilson_upper") {
      throw InputError(path, where + ".on", "point, wilson_lower or wilson_upper", "\"" + g.on + "\"");
    }
  }
  if (r.contains("report_only")) {
    if (!r["report_only"].is_boolean()) {
      throw InputError(path, where + ".report_only", "true or false", r["report_only"].dump());
    }
    g.report_only = r["report_only"].get<bool>();
  }
  for (const auto& [key, value] : r.items()) {
    static const std::vector<std::string> kKnown = {"suite", "metric", "min", "max", "max_drop_vs_base", "on",
                                                    "report_only"};
    if (std::find(kKnown.begin(), kKnown.end(), key) == kKnown.end()) {
      throw InputError(path, where + "." + key, "one of suite, metric, min, max, max_drop_vs_base, on, report_only",
                       "unknown key");
    }
  }
  return g;
}

// The number a rule compares with its bound: the point estimate or a Wilson
// bound (non-rates have no interval and use the value), as a drop from the
// base for max_drop_vs_base.
double tested_value(const GateRule& rule, const Metric& m, const Metric* base) {
  double tested = m.value;
  if (rule.on == "wilson_lower") tested = m.ci_low.value_or(m.value);
  if (rule.on == "wilson_upper") tested = m.ci_high.value_or(m.value);
  return base ? base->value - tested : tested;
}

GateResult evaluate_rule(const GateRule& rule, const SuiteResult& suite, const std::string& spec_path) {
  const Metric* m = find_metric(suite, rule.metric);
  if (m == nullptr) {
    throw InputError(spec_path, rule.suite + "." + rule.metric, "a metric of " + rule.suite + ": " + metric_names(suite),
                     "'" + rule.metric + "'");
  }
  const Metric* base = nullptr;
  if (rule.bound_kind == "max_drop_vs_base") {
    base = find_metric(suite, rule.metric + "_base");
    if (base == nullptr) {
      throw InputError(spec_path, rule.suite + "." + rule.metric, "a metric with a base value (" + rule.metric + "_base)",
                       "none");
    }
  }
  GateResult g;
  g.suite = rule.suite;
  g.metric = rule.metric;
  g.bound_kind = rule.bound_kind;
  g.bound = rule.bound;
  g.on = rule.on;
  g.report_only = rule.report_only;
  g.measured = *m;
  g.tested_value = tested_value(rule, *m, base);
  // A rate over no trials is 0 by convention, not a measurement: comparing it
  // would fail a min gate (and pass a max gate) on nothing. Any side of a drop
  // without data leaves the drop unknown.
  g.no_data = has_no_data(*m) || (base != nullptr && has_no_data(*base));
  g.passed = !g.no_data && (rule.bound_kind == "min" ? g.tested_value >= rule.bound : g.tested_value <= rule.bound);
  return g;
}

// No-data gates are neutral, but a run whose every enforced gate lacks data
// has shown nothing, so it must not pass by default.
bool verdict(const std::vector<GateResult>& gates) {
  const bool any_failed = std::any_of(gates.begin(), gates.end(),
                                      [](const GateResult& g) { return !g.report_only && gate_failed(g); });
  return !any_failed && !enforced_gates_lack_data(gates);
}

}  // namespace

GateSpec GateSpec::from_json(const json& j, const std::string& path) {
  if (!j.is_object() || !j.contains("gates") || !j["gates"].is_array()) {
    throw InputError(path, "gates", "an object with a \"gates\" array", j.is_object() ? "no gates array" : j.type_name());
  }
  GateSpec spec;
  for (size_t i = 0; i < j["gates"].size(); ++i) spec.rules.push_back(parse_rule(j["gates"][i], path, i));
  return spec;
}

GateSpec GateSpec::load(const std::filesystem::path& path) {
  return from_json(read_json_file(path, "a readable gate spec JSON file"), path.string());
}

json GateSpec::to_json() const {
  json gates = json::array();
  for (const auto& g : rules) {
    json r = {{"suite", g.suite}, {"metric", g.metric}, {g.bound_kind, g.bound}, {"on", g.on}};
    if (g.report_only) r["report_only"] = true;
    gates.push_back(r);
  }
  return json{{"gates", gates}};
}

GateSpec GateSpec::defaults() {
  // The suite table of docs/design.md. Rates gate on the point estimate. The probe
  // gates twice: the point estimate within chance + 0.02, and the interval's upper
  // end within chance + 0.05, so an eraser cannot pass on a probe set too small to
  // tell (a wide interval around chance is no evidence of erasure).
  const json j = {{"gates",
                   {{{"suite", "Efficacy"}, {"metric", "efficacy_top1"}, {"min", 0.99}},
                    {{"suite", "ParaphraseGeneralization"}, {"metric", "paraphrase_top1"}, {"min", 0.90}},
                    {{"suite", "FactPreservation"}, {"metric", "unrelated_unchanged"}, {"min", 0.99}},
                    {{"suite", "FactPreservation"}, {"metric", "neighborhood_keeps_old"}, {"min", 0.98}},
                    {{"suite", "LinearProbeRecovery"}, {"metric", "probe_accuracy_above_chance"}, {"max", 0.02}},
                    {{"suite", "LinearProbeRecovery"}, {"metric", "probe_accuracy_above_chance"}, {"max", 0.05},
                     {"on", "wilson_upper"}},
                    {{"suite", "ErasureImpact"}, {"metric", "fact_recall"}, {"max_drop_vs_base", 0.02}},
                    {{"suite", "Fluency"}, {"metric", "entropy_relative_drop"}, {"max", 0.05}},
                    // A checkpoint that is not what its manifest says fails, whatever its behaviour:
                    // noise too small to move an answer is still not the declared edit.
                    {{"suite", "Audit"}, {"metric", "audit_problems"}, {"max", 0}}}}};
  return from_json(j, "<default gate spec>");
}

void evaluate_gates(const GateSpec& spec, RunReport& report, const std::string& spec_path) {
  report.gates.clear();
  for (const auto& rule : spec.rules) {
    const SuiteResult* suite = nullptr;
    for (const auto& s : report.suites) {
      if (s.name == rule.suite) suite = &s;
    }
    if (suite == nullptr || suite->skipped) continue;
    report.gates.push_back(evaluate_rule(rule, *suite, spec_path));
  }
  report.passed = verdict(report.gates);
}

}  // namespace editgate::harness
