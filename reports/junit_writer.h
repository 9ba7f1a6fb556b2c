#pragma once
// junit.xml: the run as JUnit XML for CI test views. This unit owns the
// mapping from RunReport to JUnit elements (written with pugixml); the data
// comes from harness::RunReport.
//
// The document validates against both the Jenkins xUnit plugin's junit-10
// schema and the stricter Apache Ant JUnit schema (tests/schemas/), which is
// why it looks the way it does:
//   <testsuites>                      no attributes (Ant allows none)
//     <testsuite name package="editgate" id hostname timestamp="YYYY-MM-DDThh:mm:ss"
//                tests failures errors="0" skipped time>   one per suite, in order
//       <properties>                  always present (Ant). Run metadata
//                                     ("editgate.*"), suite metrics (<metric>,
//                                     <metric>.ci_low/.ci_high/.n), gates
//                                     ("gate.<metric>" = pass|fail|no data|..., and
//                                     ".statement"), per-case metrics
//                                     ("case.<case>.<metric>"): neither schema
//                                     allows properties under a testcase.
//       <testcase name classname=<suite> time>     one per case
//         <failure type="editgate.case" message=...>   when the case failed
//       <testcase name="gate.<metric>" ...>        one per gate on the suite;
//         <failure type="editgate.gate" message="value vs bound">  when it failed
//                                     (report-only gates never fail)
//         <skipped message="no data: ...">  when its rate has n = 0 trials
//       <testcase ...><skipped message=reason/>   for a skipped suite
//       <system-out>                  the suite's metrics and gates as text (Ant)
//       <system-err/>                 always present, empty (Ant)

#include <filesystem>
#include <string>

#include "harness/run_report.h"

namespace editgate::reports {

// junit.xml's text (UTF-8, with an XML declaration).
std::string junit_xml(const harness::RunReport& report);

// Writes junit_xml(report) to `path` atomically (temp file + rename).
void write_junit_xml(const harness::RunReport& report, const std::filesystem::path& path);

}  // namespace editgate::reports
