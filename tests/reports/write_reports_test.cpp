#include "reports/write_reports.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "harness/output_guard.h"
#include "reports/html_writer.h"
#include "reports/json_report_writer.h"
#include "reports/junit_writer.h"
#include "tests/reports/sample_report.h"

namespace {

namespace fs = std::filesystem;
using namespace editgate::reports;
using editgate::reports::testing::fresh_temp_dir;
using editgate::reports::testing::no_data_report;
using editgate::reports::testing::sample_report;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(WriteReports, WritesAllThreeAndNoTemporaries) {
  const fs::path dir = fs::path(fresh_temp_dir("all")) / "reports-out";
  const auto report = sample_report(false);
  write_reports(report, dir);
  EXPECT_EQ(slurp(dir / kReportJsonFile), report_json(report));
  EXPECT_EQ(slurp(dir / kJunitXmlFile), junit_xml(report));
  EXPECT_EQ(slurp(dir / kReportHtmlFile), report_html(report));
  // The three reports and the marker by which editgate recognises its own
  // report directory (harness/output_guard.h).
  EXPECT_EQ(editgate::harness::output_kind(dir), editgate::harness::kReportOutput);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), 4);
  // Rewriting replaces the files in place.
  write_reports(sample_report(true), dir);
  EXPECT_EQ(slurp(dir / kReportJsonFile), report_json(sample_report(true)));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), 4);
}

TEST(WriteReports, UnwritableDirectoryThrowsAndWritesNothing) {
  const fs::path file = fs::path(fresh_temp_dir("blocked")) / "not-a-dir";
  std::ofstream(file) << "x";
  EXPECT_ANY_THROW(write_reports(sample_report(true), file / "reports"));
  EXPECT_EQ(slurp(file), "x");
}

TEST(SummaryTable, OneRowPerGateWithValueIntervalBoundAndMark) {
  const std::string table = summary_table(sample_report(false));
  std::istringstream in(table);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), 7u) << table;  // header, 4 gates, 1 skipped suite, verdict
  EXPECT_EQ(lines[0].rfind("suite", 0), 0u);
  EXPECT_NE(lines[1].find("Efficacy"), std::string::npos);
  EXPECT_NE(lines[1].find("0.9 (n=200)"), std::string::npos);
  EXPECT_NE(lines[1].find("[0.8506, 0.9343]"), std::string::npos);
  EXPECT_NE(lines[1].find("\u2265 0.99"), std::string::npos);
  EXPECT_NE(lines[1].find("\u2717"), std::string::npos);
  EXPECT_NE(lines[2].find("lower \u2265 0.98 [is 0.946]"), std::string::npos) << lines[2];
  EXPECT_NE(lines[3].find("drop \u2264 0.02 [is 0.05]"), std::string::npos) << lines[3];
  EXPECT_NE(lines[4].find("\u2717 (report-only)"), std::string::npos);
  EXPECT_NE(lines[5].find("skipped: no chain-of-thought prompts"), std::string::npos);
  EXPECT_EQ(lines[6], "verdict: FAIL (4 gates, 3 failed, 1 report-only failed)");
  // Columns line up: "metric" starts at the same code point in every row.
  const auto column = [](const std::string& l, const std::string& needle) {
    const auto bytes = l.find(needle);
    return std::count_if(l.begin(), l.begin() + static_cast<ptrdiff_t>(bytes),
                         [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
  };
  EXPECT_EQ(column(lines[0], "metric"), column(lines[1], "efficacy_top1"));
  EXPECT_EQ(column(lines[0], "result"), column(lines[1], "\u2717"));
}

TEST(SummaryTable, AsciiModeAndAllMetrics) {
  SummaryOptions o;
  o.unicode = false;
  o.all_metrics = true;
  const std::string table = summary_table(sample_report(true), o);
  EXPECT_EQ(table.find("\u2713"), std::string::npos);
  EXPECT_NE(table.find(">= 0.99"), std::string::npos);
  EXPECT_NE(table.find("PASS"), std::string::npos);
  EXPECT_NE(table.find("efficacy_token_acc"), std::string::npos);  // a metric no gate tests
  EXPECT_NE(table.find("verdict: PASS (4 gates, 0 failed, 1 report-only failed)"), std::string::npos) << table;
}

TEST(SummaryTable, GateWithoutDataSaysNoData) {
  const std::string table = summary_table(no_data_report(false));
  std::istringstream in(table);
  std::string row;
  for (std::string l; std::getline(in, l);) {
    if (l.find("paraphrase_top1") != std::string::npos) row = l;
  }
  EXPECT_NE(row.find("no data (n = 0)"), std::string::npos) << table;
  EXPECT_EQ(row.find("\u2717"), std::string::npos) << row;
  EXPECT_NE(table.find("verdict: PASS (5 gates, 0 failed, 1 report-only failed, 1 no data)"), std::string::npos)
      << table;
  const std::string only = summary_table(no_data_report(true));
  EXPECT_NE(only.find("verdict: FAIL (1 gates, 0 failed, 1 no data): no enforced gate had data"), std::string::npos)
      << only;
}

}  // namespace
