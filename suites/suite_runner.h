#pragma once
// One gate run: load the base and edited checkpoints and the cases, run the
// selected suites, apply the gate spec. The `editgate gate` command and the
// GoogleTest suites binary both go through here, so they measure alike. This
// unit owns the run's order and metadata; suites measure, gates decide,
// reports/ writes.

#include <filesystem>
#include <string>
#include <vector>

#include "harness/gates.h"
#include "harness/run_report.h"
#include "suites/suite_context.h"

namespace editgate::suites {

struct RunConfig {
  std::filesystem::path base_dir;
  std::filesystem::path edited_dir;
  std::filesystem::path requests;
  std::filesystem::path preservation;  // default: preservation.json beside the requests, if present
  std::filesystem::path cot;           // default: cot.json beside the requests, if present
  std::filesystem::path eraser;        // erasure suites run only with an eraser
  std::filesystem::path concept_dataset;
  std::filesystem::path spec;          // default: GateSpec::defaults()
  std::vector<std::string> suites;     // empty: all
  std::string device = "auto";
  // The base's answers kept here across gates of one base (base_results_cache.h); empty: none.
  std::filesystem::path base_cache_dir;
  SuiteOptions options;
  bool show_progress = true;
};

// Cases of a run (requests + the preservation and CoT files found beside them).
CaseSet load_run_cases(const RunConfig& config);

// Runs the suites and the gates. InputError for bad inputs (checkpoints,
// requests, spec, unknown suite names listing the valid ones).
harness::RunReport run_gate(const RunConfig& config);

// Names of every suite, for --suites help and validation.
std::vector<std::string> suite_names();

}  // namespace editgate::suites
