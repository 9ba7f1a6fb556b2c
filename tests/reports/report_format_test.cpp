#include "reports/report_format.h"
#include "reports/write_reports.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

namespace {

using editgate::harness::GateResult;
using namespace editgate::reports;

GateResult min_gate(double value, double bound, const std::string& on) {
  GateResult g;
  g.suite = "Efficacy";
  g.metric = "efficacy_top1";
  g.bound_kind = "min";
  g.bound = bound;
  g.on = on;
  g.measured = editgate::harness::rate_metric("efficacy_top1", static_cast<int64_t>(value * 200), 200);
  g.tested_value = on == "wilson_lower" ? *g.measured.ci_low : g.measured.value;
  g.passed = g.tested_value >= bound;
  return g;
}

TEST(ReportFormat, EditWarningsComeFromTheRecordedManifest) {
  editgate::harness::RunReport report;
  EXPECT_TRUE(edit_warnings(report).empty());  // no rerun record at all
  report.meta.rerun_json = nlohmann::json({{"edit", {{"method", "rome"}}}}).dump();
  EXPECT_TRUE(edit_warnings(report).empty());
  report.meta.rerun_json = nlohmann::json({{"edit", {{"warnings", {"case 7: a warning"}}}}}).dump();
  EXPECT_EQ(edit_warnings(report), std::vector<std::string>{"case 7: a warning"});
  EXPECT_NE(summary_table(report).find("edit warning: case 7: a warning"), std::string::npos);
}

TEST(ReportFormat, FormatsValuesCompactly) {
  EXPECT_EQ(format_value(0.98), "0.98");
  EXPECT_EQ(format_value(0.951234), "0.9512");
  EXPECT_EQ(format_value(1.0), "1");
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(-0.00001), "-1.000e-05");
  EXPECT_EQ(format_value(std::nan("")), "nan");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-inf");
  EXPECT_EQ(format_exact(0.1), "0.1");
  EXPECT_EQ(format_seconds(-3), "0.000");
  EXPECT_EQ(format_seconds(1e7), "10000000.000");  // never an exponent
}

TEST(ReportFormat, GateStatementGivesValueAgainstBound) {
  const auto passed = min_gate(1.0, 0.99, "point");
  EXPECT_EQ(gate_statement(passed), "efficacy_top1: value 1 >= min 0.99 (95% CI [0.9812, 1], n=200)");
  const auto failed = min_gate(0.9, 0.99, "wilson_lower");
  EXPECT_EQ(gate_statement(failed),
            "efficacy_top1: Wilson lower bound 0.8506 < min 0.99 (value 0.9, 95% CI [0.8506, 0.9343], n=200)");
  EXPECT_EQ(gate_rule(failed), "lower >= 0.99");
  EXPECT_EQ(gate_rule(failed, true), "lower \u2265 0.99");
}

TEST(ReportFormat, DropGateStatementNamesBaseAndEdited) {
  GateResult g;
  g.metric = "fact_recall";
  g.bound_kind = "max_drop_vs_base";
  g.bound = 0.02;
  g.on = "point";
  g.measured.value = 0.91;
  g.tested_value = 0.04;
  EXPECT_EQ(gate_statement(g, 0.95), "fact_recall: drop vs base 0.04 > max 0.02 (base 0.95, edited 0.91)");
  EXPECT_EQ(gate_rule(g), "drop <= 0.02");
  g.tested_value = std::nan("");
  EXPECT_EQ(gate_statement(g), "fact_recall: drop vs base nan vs max 0.02 (edited 0.91)");
}

TEST(ReportFormat, NoDataStatementSaysWhichSideHasNoTrials) {
  GateResult g;
  g.metric = "fact_recall";
  g.bound_kind = "max_drop_vs_base";
  g.bound = 0.02;
  g.no_data = true;
  g.measured = editgate::harness::rate_metric("fact_recall", 9, 10);
  EXPECT_EQ(gate_statement(g, 0.0), "fact_recall: no data (base n = 0), max 0.02 not tested");
  g.measured = editgate::harness::rate_metric("fact_recall", 0, 0);
  EXPECT_EQ(gate_no_data_reason(g), "n = 0");
}

TEST(ReportFormat, SanitizeReplacesInvalidUtf8AndControlCharacters) {
  EXPECT_EQ(sanitize_text("caf\xc3\xa9 \xe2\x9c\x93\ttab\nline"), "caf\xc3\xa9 \xe2\x9c\x93\ttab\nline");
  const std::string replacement = "\xef\xbf\xbd";
  EXPECT_EQ(sanitize_text(std::string("a\x01" "b", 3)), "a" + replacement + "b");
  EXPECT_EQ(sanitize_text(std::string("nul\0x", 5)), "nul" + replacement + "x");
  EXPECT_EQ(sanitize_text("\xff"), replacement);                          // not a lead byte
  EXPECT_EQ(sanitize_text("\xc3"), replacement);                          // truncated sequence
  EXPECT_EQ(sanitize_text("\xc0\xaf"), replacement + replacement);        // overlong '/'
  EXPECT_EQ(sanitize_text("\xed\xa0\x80"), replacement + replacement + replacement);  // surrogate
  EXPECT_EQ(sanitize_text("\xef\xbf\xbe"), replacement + replacement + replacement);  // U+FFFE
  EXPECT_EQ(xml_escape("<a href=\"x\">&'</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
}

TEST(ReportFormat, JunitTimestampDropsFractionAndZone) {
  EXPECT_EQ(junit_timestamp("2026-11-25T22:21:19.736Z"), "2026-11-25T22:21:19");
  EXPECT_EQ(junit_timestamp("2026-11-25T22:21:19"), "2026-11-25T22:21:19");
  for (const std::string bad : {"", "yesterday", "2026-11-25 22:21:19"}) {
    const auto now = junit_timestamp(bad);
    ASSERT_EQ(now.size(), 19u) << bad;
    EXPECT_EQ(now[10], 'T') << bad;
  }
  editgate::harness::RunMetadata meta;
  EXPECT_EQ(report_hostname(meta), "localhost");
}

}  // namespace
