#pragma once
// A realistic RunReport for the report-writer tests: passing and failing
// gates (point, Wilson bound, drop vs base, report-only), a failed case with a
// message, a skipped suite, and one figure of each kind plus an unknown one.
// Owns test data only.

#include "harness/run_report.h"

namespace editgate::reports::testing {

// `passing` = false adds a failed FactPreservation case and failed gates.
harness::RunReport sample_report(bool passing);

// A report with a gate on a rate over n = 0 trials (ParaphraseGeneralization's
// paraphrase_top1, min 0.9), evaluated by harness/gates.h: with
// `only_no_data` false, sample_report(true) plus that gate (the run passes);
// true, that gate alone (no enforced gate had data, so the run does not pass).
harness::RunReport no_data_report(bool only_no_data);

// Runs `command` through the shell with stdout and stderr captured; returns
// the exit status (-1 when it did not exit normally) and the output.
struct CommandResult {
  int exit_code = -1;
  std::string output;
};
CommandResult run_command(const std::string& command);

// A fresh empty directory under the system temp dir, unique to this process.
std::string fresh_temp_dir(const std::string& name);

}  // namespace editgate::reports::testing
