#include "reports/html_writer.h"

#include <gtest/gtest.h>
#include <pugixml.hpp>

#include <filesystem>
#include <fstream>

#include "reports/svg_figures.h"
#include "tests/reports/sample_report.h"

namespace {

namespace fs = std::filesystem;
using namespace editgate::reports;
using editgate::reports::testing::fresh_temp_dir;
using editgate::reports::testing::no_data_report;
using editgate::reports::testing::sample_report;

// The page parsed as XML: report.html is written to be well-formed.
pugi::xml_document parse_page(const std::string& html) {
  pugi::xml_document doc;
  const auto ok = doc.load_string(html.c_str(), pugi::parse_default | pugi::parse_doctype);
  EXPECT_TRUE(ok) << ok.description() << " at offset " << ok.offset << ": "
                  << html.substr(static_cast<size_t>(std::max<ptrdiff_t>(0, ok.offset - 80)), 160);
  return doc;
}

size_t count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t p = haystack.find(needle); p != std::string::npos; p = haystack.find(needle, p + 1)) ++n;
  return n;
}

TEST(Html, IsWellFormedAndLoadsNothing) {
  const std::string html = report_html(sample_report(false));
  const auto doc = parse_page(html);
  ASSERT_TRUE(doc.child("html").child("body"));
  EXPECT_NE(html.find("default-src 'none'"), std::string::npos);
  // No script, no external reference: every href is an in-page anchor, nothing has src.
  EXPECT_TRUE(doc.select_nodes("//script").empty());
  EXPECT_TRUE(doc.select_nodes("//*[@src]").empty());
  EXPECT_TRUE(doc.select_nodes("//link").empty());
  for (const auto& a : doc.select_nodes("//*[@href]")) {
    EXPECT_EQ(a.node().attribute("href").value()[0], '#') << a.node().attribute("href").value();
  }
  EXPECT_EQ(count(html, "http"), count(html, "http://www.w3.org/2000/svg") + count(html, "http-equiv"));
}

TEST(Html, VerdictAndGatesComeFirst) {
  const std::string html = report_html(sample_report(false));
  const auto verdict = html.find("id=\"verdict\""), gates = html.find("id=\"gates\""),
             suites = html.find("id=\"suite-Efficacy\""), figures = html.find("id=\"figures\""),
             run = html.find("id=\"run\"");
  ASSERT_NE(verdict, std::string::npos);
  EXPECT_LT(verdict, gates);
  EXPECT_LT(gates, suites);
  EXPECT_LT(suites, figures);
  EXPECT_LT(figures, run);
  EXPECT_NE(html.find("FAIL \u2014 3 of 4 gates failed"), std::string::npos);
  EXPECT_NE(html.find("efficacy_top1: value 0.9 &lt; min 0.99"), std::string::npos);
  EXPECT_NE(html.find("fail (report-only)"), std::string::npos);
  EXPECT_NE(report_html(sample_report(true)).find("PASS \u2014 every gate holds"), std::string::npos);
}

TEST(Html, GateWithoutDataShowsNoDataNeutrally) {
  const std::string html = report_html(no_data_report(false));
  const auto doc = parse_page(html);
  const auto row = doc.select_node("//table[1]//tr[td[3]='paraphrase_top1']").node();
  ASSERT_TRUE(row);
  EXPECT_STREQ(row.attribute("class").value(), "") << "not styled as a failure";
  const auto mark = row.select_node("td[1]/span").node();
  EXPECT_STREQ(mark.attribute("class").value(), "mark nodata");
  EXPECT_STREQ(mark.text().get(), "\u2013 no data (n = 0)");
  EXPECT_STREQ(row.select_node("td[6]").node().text().get(), "0");  // n
  EXPECT_STREQ(row.select_node("td[7]").node().text().get(), "not tested");
  EXPECT_NE(html.find("PASS \u2014 every gate with data holds (1 of 5 without data)"), std::string::npos);
  EXPECT_NE(html.find("paraphrase_top1: no data (n = 0), min 0.9 not tested"), std::string::npos);
  EXPECT_NE(report_html(no_data_report(true)).find("FAIL \u2014 no data: no enforced gate had any (n = 0)"),
            std::string::npos);
}

TEST(Html, ShowsSuiteTablesFailedCasesAndSkips) {
  const std::string html = report_html(sample_report(false));
  const auto doc = parse_page(html);
  const auto pres = doc.select_node("//section[@id='suite-FactPreservation']").node();
  ASSERT_TRUE(pres);
  EXPECT_STREQ(pres.select_node(".//h3").node().text().get(), "Failed cases");
  const std::string failed_row = pres.select_node(".//tr[@class='fail']/td[3]").node().text().get();
  EXPECT_EQ(failed_row.rfind("top-1 changed", 0), 0u);
  EXPECT_NE(failed_row.find("<script>alert(1)</script>"), std::string::npos);  // as text, escaped in the file
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  // Metric rows: value, interval and n.
  const auto eff = doc.select_node("//section[@id='suite-Efficacy']//tbody/tr").node();
  EXPECT_STREQ(eff.child("td").text().get(), "efficacy_top1");
  EXPECT_STREQ(eff.select_node("td[3]").node().text().get(), "0.9");
  EXPECT_STREQ(eff.select_node("td[4]").node().text().get(), "[0.8506, 0.9343]");
  EXPECT_STREQ(eff.select_node("td[5]").node().text().get(), "200");
  EXPECT_NE(html.find("Skipped: no chain-of-thought prompts"), std::string::npos);
}

TEST(Html, DrawsEveryKnownFigureAsInlineSvg) {
  auto report = sample_report(true);
  report.figures["probe:broken"] = R"({"chance": 0.5})";
  const std::string html = report_html(report);
  const auto doc = parse_page(html);
  EXPECT_EQ(doc.select_nodes("//figure/svg").size(), 4u);
  // The heatmap: one cell per (token, layer), each with its value as a tooltip.
  EXPECT_GE(doc.select_nodes("//figure[figcaption='causal_trace']//rect[title]").size(), 9u * 12u);
  EXPECT_NE(html.find("Dan*"), std::string::npos);  // subject tokens are starred
  EXPECT_NE(html.find("chance 0.5"), std::string::npos);
  EXPECT_NE(html.find("gate 0.52"), std::string::npos);
  EXPECT_NE(html.find("area over the curve (AOC) = 0.29"), std::string::npos);
  EXPECT_NE(html.find("edits applied (log scale)"), std::string::npos);
  EXPECT_NE(html.find("kind this report does not draw ('attention_entropy')"), std::string::npos);
  EXPECT_NE(html.find("Figure not drawn: figure &#39;probe:broken&#39;: bars"), std::string::npos);
}

TEST(Html, EachSvgIsAStandaloneSvgDocument) {
  const auto report = sample_report(true);
  for (const auto& f : check_figures(report.figures)) {
    const std::string svg = figure_svg(f);
    if (f.kind == "attention_entropy") {
      EXPECT_TRUE(svg.empty());
      continue;
    }
    pugi::xml_document doc;
    ASSERT_TRUE(doc.load_string(svg.c_str())) << f.key;
    EXPECT_STREQ(doc.first_child().name(), "svg");
    EXPECT_STREQ(doc.first_child().attribute("xmlns").value(), "http://www.w3.org/2000/svg");
    EXPECT_TRUE(doc.select_nodes("//*[@id]").empty()) << f.key << " uses ids, which could clash on one page";
  }
}

TEST(Html, NaNScoresAndEmptyReportStillRender) {
  CausalTraceFigure trace;
  trace.tokens = {"a"};
  trace.layers = 2;
  trace.scores = {{std::nan(""), std::nan("")}};
  EXPECT_NE(causal_trace_svg(trace).find("#dddddd"), std::string::npos);
  const std::string html = report_html(editgate::harness::RunReport{});
  parse_page(html);
  EXPECT_NE(html.find("No gates were evaluated."), std::string::npos);
}

TEST(Html, WritesAtomically) {
  const fs::path dir = fresh_temp_dir("html_write");
  const auto report = sample_report(true);
  write_report_html(report, dir / "report.html");
  std::ifstream in(dir / "report.html");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, report_html(report));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), 1);
}

}  // namespace
