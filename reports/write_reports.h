#pragma once
// The reports of one run, written together, and the short text table the CLI
// prints. This unit owns the file names in a report directory and the table's
// layout; the three formats belong to json_report_writer.h, junit_writer.h and
// html_writer.h.

#include <filesystem>
#include <string>

#include "harness/run_report.h"

namespace editgate::reports {

inline constexpr const char* kReportJsonFile = "report.json";
inline constexpr const char* kJunitXmlFile = "junit.xml";
inline constexpr const char* kReportHtmlFile = "report.html";

// Renders report.json, junit.xml and report.html, then writes them into `dir`
// (created if missing). All three are rendered before the first is written, so
// a rendering error leaves the directory as it was. A directory that holds
// only these reports (or does not exist) is replaced as a whole, atomically;
// in a shared directory each file is replaced atomically, report.json last.
void write_reports(const harness::RunReport& report, const std::filesystem::path& dir);

struct SummaryOptions {
  bool unicode = true;        // "✓"/"✗" and "≥"/"≤"; false: "PASS"/"FAIL" and ">="/"<="
  bool all_metrics = false;   // also list suite metrics no gate tests
};

// A plain-text table for the terminal, one row per gate: suite, metric, value,
// 95 % interval, bound, mark (report-only gates marked "(report-only)", gates
// on a rate over no trials "no data (n = 0)"); then a row per skipped suite
// with its reason and a last line with the verdict.
// Columns are padded to the widest cell (counting code points, not bytes).
std::string summary_table(const harness::RunReport& report, const SummaryOptions& options = {});

}  // namespace editgate::reports
