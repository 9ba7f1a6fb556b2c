#include "tests/reports/sample_report.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "harness/gates.h"
#include "harness/remove_tree.h"
#include "reports/figures.h"

namespace editgate::reports::testing {
namespace fs = std::filesystem;
using harness::CaseResult;
using harness::GateResult;
using harness::Metric;
using harness::SuiteResult;

namespace {

Metric plain(std::string name, double value, std::string description = {}) {
  Metric m;
  m.name = std::move(name);
  m.value = value;
  m.description = std::move(description);
  return m;
}

GateResult gate(const SuiteResult& suite, const std::string& metric, const std::string& kind, double bound,
                const std::string& on, bool report_only = false) {
  GateResult g;
  g.suite = suite.name;
  g.metric = metric;
  g.bound_kind = kind;
  g.bound = bound;
  g.on = on;
  g.report_only = report_only;
  for (const auto& m : suite.metrics) {
    if (m.name == metric) g.measured = m;
  }
  double tested = g.measured.value;
  if (on == "wilson_lower") tested = g.measured.ci_low.value_or(tested);
  if (on == "wilson_upper") tested = g.measured.ci_high.value_or(tested);
  if (kind == "max_drop_vs_base") {
    for (const auto& m : suite.metrics) {
      if (m.name == metric + "_base") tested = m.value - tested;
    }
  }
  g.tested_value = tested;
  g.passed = kind == "min" ? tested >= bound : tested <= bound;
  return g;
}

}  // namespace

harness::RunReport sample_report(bool passing) {
  harness::RunReport r;
  auto& m = r.meta;
  m.editgate_version = "0.1.0";
  m.base_dir = "fixtures/base";
  m.edited_dir = "out/edited-rome";
  m.base_sha256 = std::string(64, 'a');
  m.edited_sha256 = std::string(64, 'b');
  m.requests_path = "fixtures/requests.json";
  m.requests_sha256 = std::string(64, 'c');
  m.device = "cpu";
  m.seed = 1234;
  m.hostname = "ci-runner-7";
  m.timestamp = "2026-11-25T22:21:19.736Z";  // fraction and zone: JUnit must drop them
  m.phase_seconds = {{"load", 1.5}, {"suites", 42.25}, {"reports", 0.125}};

  SuiteResult efficacy;
  efficacy.name = "Efficacy";
  efficacy.seconds = 3.5;
  for (int i = 0; i < 3; ++i) {
    CaseResult c;
    c.name = "Danielle_Darrieux_" + std::to_string(i);
    c.case_id = "cf-" + std::to_string(100 + i);
    c.metrics = {plain("p_new", 0.8 + 0.05 * i), plain("p_old", 0.01)};
    c.seconds = 1.0;
    efficacy.cases.push_back(c);
  }
  efficacy.metrics = {harness::rate_metric("efficacy_top1", passing ? 200 : 180, 200, "counterfact",
                                           "new object is top-1 on the edit prompt"),
                      harness::rate_metric("efficacy_token_acc", 196, 200, "easyedit", "teacher-forced argmax")};

  SuiteResult preservation;
  preservation.name = "FactPreservation";
  preservation.seconds = 12.0;
  for (int i = 0; i < 40; ++i) {
    CaseResult c;
    c.name = "fact_" + std::to_string(i);
    c.case_id = "pres-" + std::to_string(i);
    c.metrics = {plain("top1_unchanged", 1.0)};
    c.seconds = 0.25;
    preservation.cases.push_back(c);
  }
  if (!passing) {
    auto& bad = preservation.cases[7];
    bad.passed = false;
    bad.message = "top-1 changed: 'The Eiffel Tower is in' -> ' Rome' (base ' Paris') <script>alert(1)</script>";
    bad.metrics = {plain("top1_unchanged", 0.0), plain("p_base_object", 0.91), plain("p_edited_object", 0.12)};
  }
  preservation.metrics = {harness::rate_metric("unrelated_top1_unchanged", passing ? 1000 : 960, 1000, "counterfact"),
                          harness::rate_metric("neighborhood_keeps_old", 495, 500, "counterfact")};

  SuiteResult erasure;
  erasure.name = "ErasureImpact";
  erasure.seconds = 2.0;
  erasure.metrics = {harness::rate_metric("fact_recall", passing ? 940 : 900, 1000),
                     harness::rate_metric("fact_recall_base", 950, 1000), plain("lm_loss_delta", 0.013)};

  SuiteResult ripple;
  ripple.name = "RippleEffects";
  ripple.seconds = 1.0;
  ripple.metrics = {harness::rate_metric("subject_aliasing", 30, 100, "rippleedits")};

  SuiteResult cot;
  cot.name = "CoTTruncation";
  cot.skipped = true;
  cot.skip_reason = "no chain-of-thought prompts in the requests file";

  r.suites = {efficacy, preservation, erasure, ripple, cot};
  r.gates = {gate(efficacy, "efficacy_top1", "min", 0.99, "point"),
             gate(preservation, "unrelated_top1_unchanged", "min", 0.98, "wilson_lower"),
             gate(erasure, "fact_recall", "max_drop_vs_base", 0.02, "point"),
             gate(ripple, "subject_aliasing", "min", 0.5, "point", /*report_only=*/true)};
  r.passed = true;
  for (const auto& g : r.gates) r.passed = r.passed && (g.passed || g.report_only);

  CausalTraceFigure trace;
  trace.title = "Causal trace: Danielle Darrieux's mother tongue is";
  trace.tokens = {"Dan", "ielle", " D", "arr", "ieux", "'s", " mother", " tongue", " is"};
  trace.layers = 12;
  trace.stream = "mlp";
  trace.subject = std::make_pair(int64_t{0}, int64_t{5});
  for (size_t t = 0; t < trace.tokens.size(); ++t) {
    std::vector<double> row;
    for (int l = 0; l < 12; ++l) row.push_back(t == 4 ? 0.9 - 0.05 * l : 0.05 + 0.01 * l);
    trace.scores.push_back(row);
  }
  trace.clean_score = 0.93;
  trace.corrupted_score = 0.04;
  r.figures["causal_trace"] = to_figure_json(trace);

  ProbeFigure probe;
  probe.title = "Probe accuracy at blocks.6.hook_resid_post";
  probe.chance = 0.5;
  probe.bound = 0.52;
  probe.bars = {{"before", 0.97, 0.955, 0.98, 800}, {"after LEACE", 0.505, 0.47, 0.54, 800}};
  r.figures["probe"] = to_figure_json(probe);

  CotCurveFigure curve;
  curve.title = "Early answering";
  curve.fractions = {0, 0.25, 0.5, 0.75, 1};
  curve.agreement = {0.35, 0.5, 0.7, 0.9, 1};
  curve.ci_low = std::vector<double>{0.25, 0.4, 0.6, 0.82, 0.96};
  curve.ci_high = std::vector<double>{0.45, 0.6, 0.78, 0.95, 1};
  curve.aoc = 0.29;
  curve.n = 80;
  r.figures["cot_curve"] = to_figure_json(curve);

  SequentialFigure seq;
  seq.title = "Sequential ROME edits";
  seq.log_x = true;
  seq.y_label = "rate";
  seq.steps = {1, 10, 100, 1000};
  seq.series = {{"efficacy", {1, 0.99, 0.95, 0.6}}, {"fact preservation", {1, 0.99, 0.9, 0.4}}};
  r.figures["sequential:rome"] = to_figure_json(seq);
  r.figures["attention_entropy"] = R"({"values": [1, 2, 3]})";  // a kind no writer draws
  return r;
}

harness::RunReport no_data_report(bool only_no_data) {
  harness::RunReport r = only_no_data ? harness::RunReport{} : sample_report(true);
  SuiteResult paraphrase;
  paraphrase.name = "ParaphraseGeneralization";
  paraphrase.metrics = {harness::rate_metric("paraphrase_top1", 0, 0, "easyedit",
                                             "paraphrases the base model answered with the old object: new top-1")};
  r.suites.push_back(paraphrase);
  // The sample's gates as a spec, plus the one without data, decided by the harness.
  harness::GateSpec spec;
  for (const auto& g : r.gates) spec.rules.push_back({g.suite, g.metric, g.bound_kind, g.bound, g.on, g.report_only});
  spec.rules.push_back({"ParaphraseGeneralization", "paraphrase_top1", "min", 0.9, "point", false});
  harness::evaluate_gates(spec, r);
  return r;
}

CommandResult run_command(const std::string& command) {
  const fs::path out = fs::temp_directory_path() / ("editgate_cmd_" + std::to_string(::getpid()) + ".log");
  const int status = std::system((command + " > '" + out.string() + "' 2>&1").c_str());
  CommandResult r;
  if (status != -1 && WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  std::ifstream in(out);
  std::stringstream ss;
  ss << in.rdbuf();
  r.output = ss.str();
  fs::remove(out);
  return r;
}

std::string fresh_temp_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("editgate_reports_" + name + "_" + std::to_string(::getpid()));
  editgate::harness::remove_tree(dir);
  fs::create_directories(dir);
  return dir.string();
}

}  // namespace editgate::reports::testing
