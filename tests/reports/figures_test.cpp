#include "reports/figures.h"

#include <gtest/gtest.h>

#include "harness/input_error.h"

namespace {

using nlohmann::json;
using namespace editgate::reports;

// Expects parse(j) to throw an InputError whose field is `field`.
template <class Parse>
void expect_field_error(Parse parse, const json& j, const std::string& field) {
  try {
    parse(j, "fig");
    ADD_FAILURE() << "accepted " << j.dump();
  } catch (const editgate::InputError& e) {
    EXPECT_EQ(e.path(), "figure 'fig'");
    EXPECT_EQ(e.field(), field) << e.what();
  }
}

json trace_json() {
  return json::parse(R"({"title": "t", "tokens": ["a", "b"], "layers": 3,
                         "scores": [[0.1, 0.2, 0.3], [0.4, null, 0.6]], "stream": "mlp", "subject": [0, 1]})");
}

TEST(Figures, CausalTraceRoundTrips) {
  const auto f = parse_causal_trace(trace_json(), "causal_trace");
  EXPECT_EQ(f.tokens.size(), 2u);
  EXPECT_TRUE(std::isnan(f.scores[1][1]));  // null: a cell that was not measured
  const auto again = parse_causal_trace(json::parse(to_figure_json(f)), "causal_trace");
  EXPECT_EQ(again.scores[0], f.scores[0]);
  EXPECT_EQ(again.subject, f.subject);
  EXPECT_EQ(again.stream, "mlp");
}

TEST(Figures, CausalTraceRejectsMalformedShapes) {
  auto j = trace_json();
  j["scores"].erase(1);
  expect_field_error(parse_causal_trace, j, "scores");
  j = trace_json();
  j["scores"][1] = {0.1, 0.2};
  expect_field_error(parse_causal_trace, j, "scores[1]");
  j = trace_json();
  j["scores"][0][2] = "high";
  expect_field_error(parse_causal_trace, j, "scores[0][2]");
  j = trace_json();
  j["subject"] = {1, 5};
  expect_field_error(parse_causal_trace, j, "subject");
  j = trace_json();
  j["stream"] = "residual";
  expect_field_error(parse_causal_trace, j, "stream");
  j = trace_json();
  j["layers"] = 0;
  expect_field_error(parse_causal_trace, j, "layers");
  j = trace_json();
  j.erase("tokens");
  expect_field_error(parse_causal_trace, j, "tokens");
  expect_field_error(parse_causal_trace, json::array(), "");
}

TEST(Figures, ProbeRoundTripsAndRejectsMalformed) {
  ProbeFigure f;
  f.chance = 0.5;
  f.bound = 0.52;
  f.bars = {{"before", 0.9, 0.85, 0.93, 400}, {"after", 0.5, std::nullopt, std::nullopt, 0}};
  const auto again = parse_probe(to_json(f), "probe");
  ASSERT_EQ(again.bars.size(), 2u);
  EXPECT_EQ(again.bars[0].ci_low, 0.85);
  EXPECT_EQ(again.bars[0].n, 400);
  EXPECT_FALSE(again.bars[1].ci_low);
  EXPECT_EQ(again.bound, 0.52);
  auto j = to_json(f);
  j.erase("chance");
  expect_field_error(parse_probe, j, "chance");
  j = to_json(f);
  j["bars"] = json::array();
  expect_field_error(parse_probe, j, "bars");
  j = to_json(f);
  j["bars"][0].erase("label");
  expect_field_error(parse_probe, j, "label");
}

TEST(Figures, CotCurveRejectsMismatchedLengthsAndOrder) {
  CotCurveFigure f;
  f.fractions = {0, 0.5, 1};
  f.agreement = {0.3, 0.6, 1};
  f.ci_low = std::vector<double>{0.2, 0.5, 0.9};
  f.ci_high = std::vector<double>{0.4, 0.7, 1};
  f.aoc = 0.35;
  EXPECT_EQ(parse_cot_curve(to_json(f), "cot_curve").ci_high, f.ci_high);
  auto j = to_json(f);
  j["agreement"] = {0.3, 0.6};
  expect_field_error(parse_cot_curve, j, "agreement");
  j = to_json(f);
  j["fractions"] = {0, 0.5, 0.5};
  expect_field_error(parse_cot_curve, j, "fractions");
  j = to_json(f);
  j["fractions"] = {0, 0.5, 1.5};
  expect_field_error(parse_cot_curve, j, "fractions");
  j = to_json(f);
  j.erase("ci_high");
  expect_field_error(parse_cot_curve, j, "ci_low");
  j = to_json(f);
  j["ci_high"] = {0.4};
  expect_field_error(parse_cot_curve, j, "ci_high");
}

TEST(Figures, SequentialRejectsShortSeriesAndNonPositiveLogSteps) {
  SequentialFigure f;
  f.steps = {1, 10, 100};
  f.log_x = true;
  f.series = {{"efficacy", {1, 0.9, 0.5}}};
  const auto again = parse_sequential(to_json(f), "sequential");
  EXPECT_TRUE(again.log_x);
  EXPECT_EQ(again.x_label, "edits applied");
  auto j = to_json(f);
  j["series"][0]["values"] = {1, 0.9};
  expect_field_error(parse_sequential, j, "series[0].values");
  j = to_json(f);
  j["steps"] = {0, 10, 100};
  expect_field_error(parse_sequential, j, "steps");
  j = to_json(f);
  j["log_x"] = "yes";
  expect_field_error(parse_sequential, j, "log_x");
  j = to_json(f);
  j["series"] = json::array();
  expect_field_error(parse_sequential, j, "series");
}

TEST(Figures, CheckFiguresReportsBadTextAndKeepsUnknownKinds) {
  const auto checked = check_figures({{"causal_trace:x", trace_json().dump()},
                                      {"probe", "{not json"},
                                      {"cot_curve", R"({"fractions": [0, 1]})"},
                                      {"my_plot", R"({"anything": 1})"}});
  ASSERT_EQ(checked.size(), 4u);
  EXPECT_EQ(checked[0].kind, "causal_trace");
  EXPECT_TRUE(checked[0].error.empty());
  EXPECT_NE(checked[1].error.find("agreement"), std::string::npos) << checked[1].error;  // cot_curve
  EXPECT_EQ(checked[2].key, "my_plot");
  EXPECT_TRUE(checked[2].error.empty());
  EXPECT_NE(checked[3].error.find("not valid JSON"), std::string::npos) << checked[3].error;
  EXPECT_EQ(figure_kind("sequential:rome"), "sequential");
  EXPECT_EQ(figure_kind("probe"), "probe");
}

}  // namespace
