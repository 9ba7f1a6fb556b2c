// LinearProbeRecovery and ErasureImpact: what an installed LEACE eraser
// removes (held-out logistic-probe accuracy at the eraser's hook, before and
// after, cross-validated by subject, against chance with its interval) and
// what it costs (fact recall of the concept dataset's prompts with the eraser
// installed at the positions it was fitted on). The eraser's fit split is
// never probed: the probe folds cover probe_train and probe_test only.

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>

#include "editors/concept_dataset.h"
#include "editors/concept_prompts.h"
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

// n counts rows; the interval counts what is independent: the subjects.
std::string clustering_note(const editors::ProbeReport& r) {
  return r.n_groups > 0 ? " (interval clustered by " + std::to_string(r.n_groups) + " subjects)" : std::string();
}

harness::Metric probe_metric(std::string name, const editors::ProbeReport& r, std::string description) {
  harness::Metric m;
  m.name = std::move(name);
  m.value = r.accuracy;
  m.n = r.n_test;
  m.ci_low = r.accuracy_interval.low;
  m.ci_high = r.accuracy_interval.high;
  m.family = "probe";
  m.description = std::move(description) + clustering_note(r);
  m.is_rate = true;
  return m;
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
  std::map<std::string, int64_t> subject_ids;
  const auto train = editors::encode_records(tm, dataset.probe_train, ctx.concept_path, subject_ids);
  const auto test = editors::encode_records(tm, dataset.probe_test, ctx.concept_path, subject_ids);
  const int64_t k = dataset.num_classes();

  const auto collect = [&](const editors::EncodedRecords& e) {
    return editors::collect_activations(tm.model(), eraser.point, e.prompts, e.positions);
  };
  const auto split_of = [&](const at::Tensor& x_train, const at::Tensor& x_test) {
    return editors::ProbeSplit::from_parts(editors::LabeledData{x_train, train.labels, k, train.groups},
                                           editors::LabeledData{x_test, test.labels, k, test.groups});
  };
  // Cross-validated by subject over both probe parts: one train/test split of
  // ~200 subjects can land far from what the probe reads on average.
  const auto before = editors::probe_logistic_cv(split_of(collect(train), collect(test)));
  editors::ProbeReport after;
  {
    // At the eraser's own hook, erasing every position gives the same activation
    // at the record's position as erasing that position alone.
    const auto handle = editors::install_eraser(tm.model(), eraser.point, eraser.eraser);
    after = editors::probe_logistic_cv(split_of(collect(train), collect(test)));
  }
  const std::string cv = std::to_string(after.folds) + "-fold cross-validated by subject over probe_train and probe_test";
  probe_suite.metrics.push_back(
      probe_metric("probe_accuracy_after", after, "held-out logistic probe after erasure, " + cv));
  probe_suite.metrics.push_back(probe_metric("probe_accuracy_before", before, "the same probe without the eraser"));
  harness::Metric above;
  above.name = "probe_accuracy_above_chance";
  above.value = after.accuracy - after.chance_accuracy;
  above.n = after.n_test;
  above.ci_low = after.accuracy_interval.low - after.chance_accuracy;
  above.ci_high = after.accuracy_interval.high - after.chance_accuracy;
  above.family = "probe";
  above.is_rate = true;  // a rate shifted by chance: without held-out rows it has no data
  above.description =
      "after-erasure accuracy minus the majority-class rate of the held-out rows" + clustering_note(after);
  probe_suite.metrics.push_back(above);
  probe_suite.metrics.push_back({"chance_accuracy", after.chance_accuracy, after.n_test, {}, {}, "probe",
                                 "majority-class rate of the held-out rows (both probe parts)", /*is_rate=*/true});
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
  // (concept_recall, report-only) and kept out of the gated fact_recall. The
  // eraser goes where it was fitted: at each record's own position.
  std::vector<const editors::ConceptRecord*> others, concept_facts;
  std::vector<int64_t> other_positions, concept_positions;
  for (const auto* part : {&dataset.probe_train, &dataset.probe_test}) {
    const auto& enc = part == &dataset.probe_train ? train : test;
    for (size_t i = 0; i < part->size(); ++i) {
      const auto& r = (*part)[i];
      if (r.object.empty()) continue;
      const bool is_concept = dataset.asks_for_concept(r);
      (is_concept ? concept_facts : others).push_back(&r);
      (is_concept ? concept_positions : other_positions).push_back(enc.positions[i]);
    }
  }
  const auto recall = [&](const std::vector<const editors::ConceptRecord*>& records,
                          const std::vector<int64_t>& positions, const LoadedEraser* e) {
    return editors::fact_recall(tm, eraser.point, records, positions, e != nullptr ? &e->eraser : nullptr);
  };
  const auto base = recall(others, other_positions, nullptr);
  const auto erased = recall(others, other_positions, &eraser);
  auto with = harness::rate_metric("fact_recall", erased.hits, erased.n, "",
                                   "other facts of the concept prompts' subjects, eraser installed");
  auto without = harness::rate_metric("fact_recall_base", base.hits, base.n, "", "the same facts without the eraser");
  impact_suite.metrics = {with, without};
  if (!concept_facts.empty()) {
    const auto c_base = recall(concept_facts, concept_positions, nullptr);
    const auto c_erased = recall(concept_facts, concept_positions, &eraser);
    impact_suite.metrics.push_back(harness::rate_metric(
        "concept_recall", c_erased.hits, c_erased.n, "", "prompts answered by the concept itself, eraser installed"));
    impact_suite.metrics.push_back(
        harness::rate_metric("concept_recall_base", c_base.hits, c_base.n, "", "the same prompts without the eraser"));
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
