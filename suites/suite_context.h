#pragma once
// What every suite receives: the base and edited models, the cases, and the
// run options. Suites are functions SuiteContext -> SuiteResult (suites.h);
// the runner decides which run and in what order.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "harness/run_report.h"
#include "harness/text_model.h"
#include "suites/base_results_cache.h"
#include "suites/case_set.h"

namespace editgate::suites {

struct SuiteOptions {
  int64_t fluency_max_new_tokens = 24;
  int64_t max_generation_prompts = 64;  // Fluency: prompts generated per model
  int64_t max_cot_items = 200;          // CoTTruncation: items evaluated
  int64_t ripple_max_new_tokens = 8;
  uint64_t seed = 0;
};

struct SuiteContext {
  harness::TextModel& base;
  harness::TextModel& edited;
  const CaseSet& cases;
  SuiteOptions options;
  std::filesystem::path eraser_path;   // empty: erasure suites skip
  std::filesystem::path concept_path;  // erasure dataset for the erasure suites
  // LinearProbeRecovery and ErasureImpact share one pass over the concept data;
  // whichever runs first fills this.
  std::vector<harness::SuiteResult> erasure_results;
  // The checkpoints' directories, for the Audit suite (empty: it skips).
  std::filesystem::path base_dir;
  std::filesystem::path edited_dir;
  // The base's answers kept across gates of one base (null: none); suites pass it
  // to model_queries.h for the base's questions, never the edited model's.
  BaseResultsCache* base_cache = nullptr;
};

}  // namespace editgate::suites
