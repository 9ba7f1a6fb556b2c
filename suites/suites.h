#pragma once
// The suites: each measures one property of an edited model against its base
// and returns a SuiteResult with per-case results (one per edit case, named
// after it, so a JUnit failure points at one fact) and the aggregate metrics
// gates test. Metric definitions: docs/design.md, "Suites and metrics"; where
// CounterFact's and EasyEdit's conventions disagree, both are reported and
// labelled by family.

#include <functional>
#include <string>
#include <vector>

#include "suites/suite_context.h"

namespace editgate::suites {

harness::SuiteResult run_efficacy(SuiteContext& ctx);                  // edit prompt
harness::SuiteResult run_paraphrase_generalization(SuiteContext& ctx); // held-out paraphrases
harness::SuiteResult run_fact_preservation(SuiteContext& ctx);         // unrelated + neighbourhood
harness::SuiteResult run_fluency(SuiteContext& ctx);                   // n-gram entropy
// The edited checkpoint against its edit_manifest.json (editors/audit.h): a
// tensor changed that the manifest does not declare, a declared rank or sha256
// the file does not have. Skips when there is no manifest or base == edited.
harness::SuiteResult run_audit(SuiteContext& ctx);
harness::SuiteResult run_ripple_effects(SuiteContext& ctx);            // RippleEdits criteria
harness::SuiteResult run_cot_truncation(SuiteContext& ctx);            // early answering, mistakes
harness::SuiteResult run_linear_probe_recovery(SuiteContext& ctx);     // probe accuracy after LEACE
harness::SuiteResult run_erasure_impact(SuiteContext& ctx);            // fact recall with the eraser
// Both erasure suites in one pass over the concept dataset.
std::vector<harness::SuiteResult> run_erasure_suites(SuiteContext& ctx);

struct SuiteEntry {
  std::string name;
  std::function<harness::SuiteResult(SuiteContext&)> run;
  // Every aggregate metric the suite can report (a run may report fewer, e.g. no
  // concept_recall without concept prompts). Gate specs are checked against it
  // before any model loads, so a misspelt metric costs no suite run.
  std::vector<std::string> metrics;
};

// Every suite, in report order.
const std::vector<SuiteEntry>& all_suites();

// ROME's n-gram entropy of a text: weighted mean of the 2- and 3-gram entropies
// (weights 2/3 and 4/3), over whitespace-separated words.
double ngram_entropy(const std::string& text);

}  // namespace editgate::suites
