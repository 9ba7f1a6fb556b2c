// `editgate debug`: Integrated Gradients, logit lens and causal tracing for a
// wrong answer, with a plain-text reading (editors/locate/debug_analysis.h);
// --json prints everything, --html writes a page with the three figures
// (drawn by reports/svg_figures.h). Parsing and printing only.

#include <fmt/format.h>

#include <iostream>

#include "editors/locate/debug_analysis.h"
#include "harness/atomic_file.h"
#include "cli/commands.h"
#include "harness/json_file.h"
#include "harness/text_model.h"
#include "reports/report_format.h"
#include "reports/svg_figures.h"

namespace editgate::cli {
namespace {

struct DebugFlags {
  std::string model, prompt, expected, subject, html;
  int64_t ig_steps = 64;
  double tolerance = 0.05;
  int64_t samples = 10;
  uint64_t seed = 1;
  std::string device = "auto";
  bool json = false;
};

std::string debug_html(const editors::DebugResult& r) {
  // Attributions as a one-column heat strip over the tokens.
  reports::CausalTraceFigure ig;
  ig.title = "Integrated gradients of logit(expected) - logit(actual)";
  ig.tokens = r.tokens;
  ig.layers = 1;
  for (double a : r.ig.attributions) ig.scores.push_back({a});
  reports::SequentialFigure lens;
  lens.title = "Logit lens: P(answer) after each layer";
  lens.x_label = "layer";
  lens.y_label = "probability";
  reports::SequentialSeries e{"expected " + r.expected, {}}, a{"actual " + r.actual, {}};
  for (const auto& row : r.lens) {
    lens.steps.push_back(static_cast<double>(row.layer));
    e.values.push_back(row.expected_prob);
    a.values.push_back(row.actual_prob);
  }
  lens.series = {e, a};
  std::string body;
  for (const auto& line : r.summary) body += "<li>" + reports::xml_escape(line) + "</li>\n";
  std::string table = "<table><tr><th>layer</th><th>expected rank</th><th>P(expected)</th><th>actual rank</th>"
                      "<th>P(actual)</th><th>top-1</th></tr>\n";
  for (const auto& row : r.lens) {
    table += fmt::format("<tr><td>{}</td><td>{}</td><td>{:.4f}</td><td>{}</td><td>{:.4f}</td><td>{}</td></tr>\n", row.layer,
                         row.expected_rank, row.expected_prob, row.actual_rank, row.actual_prob,
                         reports::xml_escape(row.top1));
  }
  table += "</table>\n";
  std::string trace = "<p>Causal tracing skipped: give --subject.</p>\n";
  if (r.trace) {
    trace = "<h2>Causal tracing of the actual answer</h2>\n" + trace_svg(*r.trace, r.prompt) + "\n";
    reports::CausalTraceFigure ko;
    ko.title = "MLP knockout: P(actual) with one MLP output zeroed";
    ko.tokens = r.tokens;
    ko.layers = r.knockout.size(1);
    for (int64_t t = 0; t < r.knockout.size(0); ++t) {
      ko.scores.emplace_back(r.knockout[t].data_ptr<double>(), r.knockout[t].data_ptr<double>() + ko.layers);
    }
    ko.stream = "mlp";
    ko.subject = std::pair{r.trace->subject_begin, r.trace->subject_end};
    ko.clean_score = r.actual_prob;
    trace += "<h2>MLP knockout</h2>\n" + reports::causal_trace_svg(ko) + "\n";
  }
  return fmt::format(
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>editgate debug</title>\n"
      "<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}td,th{{padding:0 .6em;text-align:right}}"
      "</style></head><body>\n<h1>editgate debug: {}</h1>\n<ul>\n{}</ul>\n<h2>Integrated gradients</h2>\n{}\n"
      "<h2>Logit lens</h2>\n{}\n{}{}</body></html>\n",
      reports::xml_escape(r.prompt), body, reports::causal_trace_svg(ig), reports::sequential_svg(lens), table, trace);
}

void run_debug_command(const DebugFlags& f) {
  auto tm = harness::TextModel::load(f.model, harness::LoadOptions{f.device, "auto", true});
  editors::DebugOptions o;
  o.ig_steps = f.ig_steps;
  o.completeness_tolerance = f.tolerance;
  o.trace.samples = f.samples;
  o.trace.seed = f.seed;
  const auto r = editors::debug_prediction(tm, f.prompt, f.expected,
                                           f.subject.empty() ? std::nullopt : std::optional<std::string>(f.subject), o);
  if (!f.html.empty()) write_file_atomic(f.html, debug_html(r));
  if (f.json) {
    std::cout << harness::json_text(editors::to_json(r)) << "\n";
    return;
  }
  for (const auto& line : r.summary) std::cout << line << "\n";
  std::cout << "\nintegrated gradients per token:\n";
  for (size_t i = 0; i < r.tokens.size(); ++i) std::cout << fmt::format("  {:<16} {:+.4f}\n", r.tokens[i], r.ig.attributions[i]);
  std::cout << fmt::format("\nlogit lens ({} expected, {} actual):\n  layer  rank   P(exp)   rank   P(act)  top-1\n",
                           r.expected, r.actual);
  for (const auto& row : r.lens) {
    std::cout << fmt::format("  {:>5} {:>5} {:8.4f} {:>6} {:8.4f}  {}\n", row.layer, row.expected_rank, row.expected_prob,
                             row.actual_rank, row.actual_prob, row.top1);
  }
}

}  // namespace

void register_debug_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("debug", "Why a wrong answer: integrated gradients over the input tokens, logit lens, "
                                          "causal tracing, and the editor and layer to try");
  auto f = std::make_shared<DebugFlags>();
  cmd->add_option("--model", f->model, "checkpoint directory")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--prompt", f->prompt, "prompt (the subject in it, or {} where it goes)")->required();
  cmd->add_option("--expected", f->expected, "the answer the model should give")->required();
  cmd->add_option("--subject", f->subject, "the fact's subject (needed for causal tracing)");
  cmd->add_option("--ig-steps", f->ig_steps, "integrated-gradients path steps")->check(CLI::PositiveNumber);
  cmd->add_option("--tolerance", f->tolerance, "completeness tolerance, relative to max(1, |dF|)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--samples", f->samples, "corrupted runs averaged by causal tracing")->check(CLI::PositiveNumber);
  cmd->add_option("--seed", f->seed, "causal-tracing noise seed");
  cmd->add_option("--html", f->html, "write a page with the three figures here");
  cmd->add_option("--device", f->device, "cpu, cuda, cuda:N or auto");
  cmd->add_flag("--json", f->json, "print everything as JSON");
  cmd->callback([f, &exit_code] {
    run_debug_command(*f);
    exit_code = kExitOk;
  });
}

}  // namespace editgate::cli
