// LinearProbeRecovery and ErasureImpact: what an installed LEACE eraser
// removes (held-out logistic-probe accuracy at the eraser's hook, before and
// after, against chance with its interval) and what it costs (fact recall of
// the concept dataset's prompts with the eraser installed at the positions it
// was fitted on). The eraser's fit split is never probed: probes train on
// probe_train and score on probe_test.

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>

#include "editors/concept_dataset.h"
#include "editors/edit_request.h"
#include "editors/eraser.h"
#include "editors/eraser_hook.h"
#include "editors/erasure_split.h"
#include "editors/probe_recovery.h"
#include "harness/input_error.h"
#include "harness/safetensors_reader.h"
#include "harness/scoring.h"
#include "suites/suites.h"

namespace editgate::suites {
namespace {

struct LoadedEraser {
  editors::Eraser eraser;
  harness::HookPoint point;
};

LoadedEraser load_eraser(const std::filesystem::path& path, const harness::ModelConfig& config) {
  const auto file = harness::SafetensorsFile::open(path);
  const auto& meta = file->metadata();
  const auto hook = meta.find("hook");
  if (hook == meta.end()) {
    throw InputError(path.string(), "__metadata__.hook", "the hook point the eraser was fitted at", "nothing",
                     "write erasers with `editgate erase-model`");
  }
  return {editors::Eraser::load(path), harness::parse_hook_name(hook->second, config.n_layers, path.string())};
}

struct EncodedRecords {
  std::vector<std::vector<int64_t>> prompts;
  std::vector<int64_t> positions;
  at::Tensor labels;  // [n] int64
  at::Tensor groups;  // [n] int64 subject ids: the probe's interval clusters by subject
};

EncodedRecords encode(const harness::TextModel& tm, const std::vector<editors::ConceptRecord>& records,
                      const std::filesystem::path& path) {
  EncodedRecords out;
  std::vector<int64_t> labels;
  for (const auto& r : records) {
    out.prompts.push_back(tm.encode_prompt(r.prompt));
    out.positions.push_back(editors::record_position(tm, r, path));
    labels.push_back(r.label);
  }
  out.labels = at::tensor(labels, at::kLong);
  std::map<std::string, int64_t> ids;
  out.groups = editors::subject_groups(records, ids);
  return out;
}

harness::Metric probe_metric(std::string name, const editors::ProbeReport& r, std::string description) {
  harness::Metric m;
  m.name = std::move(name);
  m.value = r.accuracy;
  m.n = r.n_test;
  m.ci_low = r.accuracy_interval.low;
  m.ci_high = r.accuracy_interval.high;
  m.family = "probe";
  m.description = std::move(description);
  // n counts rows; the interval counts what is independent: the subjects.
  if (r.n_groups > 0) m.description += " (interval clustered by " + std::to_string(r.n_groups) + " subjects)";
  return m;
}

// Fact recall (" " + object is the teacher-forced top-1 at every token), with
// the eraser installed at each record's own position when `eraser` is given.
std::pair<int64_t, int64_t> recall(harness::TextModel& tm, const std::vector<editors::ConceptRecord>& records,
                                   const EncodedRecords& enc, const LoadedEraser* eraser) {
  constexpr size_t kBatch = 32;
  int64_t hits = 0, n = 0;
  for (size_t start = 0; start < records.size(); start += kBatch) {
    std::vector<harness::ScoreItem> items;
    std::vector<int64_t> positions;
    for (size_t i = start; i < std::min(records.size(), start + kBatch); ++i) {
      if (records[i].object.empty()) continue;
      items.push_back({enc.prompts[i], tm.encode_continuation(editors::with_leading_space(records[i].object))});
      positions.push_back(enc.positions[i]);
    }
    if (items.empty()) continue;
    harness::HookHandle handle;
    if (eraser != nullptr) handle = editors::install_eraser(tm.model(), eraser->point, eraser->eraser, positions);
    // Right padding keeps each prompt's positions where the eraser expects them.
    const auto results = harness::score(tm.model(), items, static_cast<int64_t>(items.size()), harness::Padding::kRight);
    for (size_t k = 0; k < results.size(); ++k) {
      bool all = true;
      for (size_t t = 0; t < results[k].argmax.size(); ++t) all = all && results[k].argmax[t] == items[k].continuation[t];
      hits += all;
      ++n;
    }
  }
  return {hits, n};
}

}  // namespace

std::vector<harness::SuiteResult> run_erasure_suites(SuiteContext& ctx) {
  const auto t0 = std::chrono::steady_clock::now();
  harness::SuiteResult probe_suite, impact_suite;
  probe_suite.name = "LinearProbeRecovery";
  impact_suite.name = "ErasureImpact";
  if (ctx.eraser_path.empty() || ctx.concept_path.empty()) {
    for (auto* s : {&probe_suite, &impact_suite}) {
      s->skipped = true;
      s->skip_reason = "no eraser (--eraser) and concept dataset (--concept) for this run";
    }
    return {probe_suite, impact_suite};
  }
  c10::NoGradGuard no_grad;
  auto& tm = ctx.edited;
  const auto eraser = load_eraser(ctx.eraser_path, tm.model().config());
  const auto dataset = editors::ConceptDataset::load(ctx.concept_path);
  const auto train = encode(tm, dataset.probe_train, ctx.concept_path);
  const auto test = encode(tm, dataset.probe_test, ctx.concept_path);
  const int64_t k = dataset.num_classes();

  const auto collect = [&](const EncodedRecords& e) {
    return editors::collect_activations(tm.model(), eraser.point, e.prompts, e.positions);
  };
  const auto split_of = [&](const at::Tensor& x_train, const at::Tensor& x_test) {
    return editors::ProbeSplit::from_parts(editors::LabeledData{x_train, train.labels, k, train.groups},
                                           editors::LabeledData{x_test, test.labels, k, test.groups});
  };
  const auto before = editors::probe_logistic(split_of(collect(train), collect(test)));
  editors::ProbeReport after;
  {
    // At the eraser's own hook, erasing every position gives the same activation
    // at the record's position as erasing that position alone.
    const auto handle = editors::install_eraser(tm.model(), eraser.point, eraser.eraser);
    after = editors::probe_logistic(split_of(collect(train), collect(test)));
  }
  probe_suite.metrics.push_back(probe_metric("probe_accuracy_after", after, "held-out logistic probe after erasure"));
  probe_suite.metrics.push_back(probe_metric("probe_accuracy_before", before, "the same probe without the eraser"));
  harness::Metric above;
  above.name = "probe_accuracy_above_chance";
  above.value = after.accuracy - after.chance_accuracy;
  above.n = after.n_test;
  above.ci_low = after.accuracy_interval.low - after.chance_accuracy;
  above.ci_high = after.accuracy_interval.high - after.chance_accuracy;
  above.family = "probe";
  above.description = "after-erasure accuracy minus the majority-class rate of the test split" +
                      (after.n_groups > 0 ? " (interval clustered by " + std::to_string(after.n_groups) + " subjects)"
                                          : std::string());
  probe_suite.metrics.push_back(above);
  probe_suite.metrics.push_back({"chance_accuracy", after.chance_accuracy, after.n_test, {}, {}, "probe",
                                 "majority-class rate of the test split"});
  harness::CaseResult pc;
  pc.name = sanitize_case_name(dataset.concept_name.empty() ? "concept" : dataset.concept_name);
  pc.case_id = dataset.concept_name;
  pc.metrics = probe_suite.metrics;
  pc.passed = !after.beats_chance();
  if (!before.beats_chance()) {
    // Not a failure, but a pass that proves nothing: say so where people look.
    pc.message = "note: '" + dataset.concept_name + "' was not linearly decodable before erasure either (accuracy " +
                 std::to_string(before.accuracy) + ", chance " + std::to_string(before.chance_accuracy) + ")";
  }
  if (!pc.passed) {
    pc.message = (pc.message.empty() ? "" : pc.message + "; ") + "a linear probe still reads '" + dataset.concept_name + "' after erasure: accuracy " +
                 std::to_string(after.accuracy) + " > chance " + std::to_string(after.chance_accuracy);
  }
  probe_suite.cases.push_back(pc);
  nlohmann::json fig = {{"title", "probe accuracy on held-out data: " + dataset.concept_name},
                        {"chance", after.chance_accuracy},
                        {"bars",
                         {{{"label", "before"}, {"accuracy", before.accuracy}, {"ci_low", before.accuracy_interval.low},
                           {"ci_high", before.accuracy_interval.high}, {"n", before.n_test}},
                          {{"label", "after LEACE"}, {"accuracy", after.accuracy}, {"ci_low", after.accuracy_interval.low},
                           {"ci_high", after.accuracy_interval.high}, {"n", after.n_test}}}}};
  probe_suite.figures["probe:" + dataset.concept_name] = fig.dump();

  // The cost of erasure is measured on facts that are not the concept itself: a
  // prompt whose object is one of the concept's classes ("X is a" -> "woman")
  // is what the eraser is meant to take away, so it is reported on its own
  // (concept_recall, report-only) and kept out of the gated fact_recall.
  std::vector<editors::ConceptRecord> others, concept_facts;
  for (const auto* split : {&dataset.probe_train, &dataset.probe_test}) {
    for (const auto& r : *split) {
      const bool is_concept =
          std::find(dataset.classes.begin(), dataset.classes.end(), r.object) != dataset.classes.end();
      (is_concept ? concept_facts : others).push_back(r);
    }
  }
  const auto enc_others = encode(tm, others, ctx.concept_path);
  const auto [hits_base, n_base] = recall(tm, others, enc_others, nullptr);
  const auto [hits_erased, n_erased] = recall(tm, others, enc_others, &eraser);
  auto with = harness::rate_metric("fact_recall", hits_erased, n_erased, "",
                                   "other facts of the concept prompts' subjects, eraser installed");
  auto without = harness::rate_metric("fact_recall_base", hits_base, n_base, "", "the same facts without the eraser");
  impact_suite.metrics = {with, without};
  if (!concept_facts.empty()) {
    const auto enc_concept = encode(tm, concept_facts, ctx.concept_path);
    const auto [c_base, c_n] = recall(tm, concept_facts, enc_concept, nullptr);
    const auto [c_erased, c_n_erased] = recall(tm, concept_facts, enc_concept, &eraser);
    impact_suite.metrics.push_back(harness::rate_metric(
        "concept_recall", c_erased, c_n_erased, "", "prompts answered by the concept itself, eraser installed"));
    impact_suite.metrics.push_back(
        harness::rate_metric("concept_recall_base", c_base, c_n, "", "the same prompts without the eraser"));
  }
  harness::CaseResult ic;
  ic.name = pc.name;
  ic.case_id = dataset.concept_name;
  ic.metrics = impact_suite.metrics;
  ic.passed = with.value >= without.value - 0.02;
  if (!ic.passed) ic.message = "fact recall fell from " + std::to_string(without.value) + " to " + std::to_string(with.value);
  impact_suite.cases.push_back(ic);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  probe_suite.seconds = impact_suite.seconds = secs / 2;
  return {probe_suite, impact_suite};
}

harness::SuiteResult run_linear_probe_recovery(SuiteContext& ctx) {
  if (ctx.erasure_results.empty()) ctx.erasure_results = run_erasure_suites(ctx);
  return ctx.erasure_results[0];
}

harness::SuiteResult run_erasure_impact(SuiteContext& ctx) {
  if (ctx.erasure_results.empty()) ctx.erasure_results = run_erasure_suites(ctx);
  return ctx.erasure_results[1];
}

}  // namespace editgate::suites
