#include "harness/gates.h"

#include <gtest/gtest.h>

#include "harness/input_error.h"

namespace {

using editgate::InputError;
using editgate::harness::evaluate_gates;
using editgate::harness::GateSpec;
using editgate::harness::rate_metric;
using editgate::harness::RunReport;
using editgate::harness::SuiteResult;
using nlohmann::json;

RunReport report_with(const std::string& suite, std::vector<editgate::harness::Metric> metrics) {
  RunReport r;
  SuiteResult s;
  s.name = suite;
  s.metrics = std::move(metrics);
  r.suites.push_back(s);
  return r;
}

TEST(RunReport, WilsonIntervalMatchesKnownValues) {
  // 8 of 10: Wilson 95 % = [0.4902, 0.9433] (standard tables).
  const auto m = rate_metric("x", 8, 10);
  EXPECT_DOUBLE_EQ(m.value, 0.8);
  EXPECT_NEAR(*m.ci_low, 0.4902, 1e-4);
  EXPECT_NEAR(*m.ci_high, 0.9433, 1e-4);
  const auto all = rate_metric("y", 50, 50);
  EXPECT_NEAR(*all.ci_high, 1.0, 1e-12);
  EXPECT_LT(*all.ci_low, 1.0);
  EXPECT_FALSE(rate_metric("z", 0, 0).ci_low.has_value());
  EXPECT_TRUE(editgate::harness::has_no_data(rate_metric("z", 0, 0)));
  EXPECT_FALSE(editgate::harness::has_no_data(rate_metric("z", 0, 1)));
}

TEST(Gates, MinBoundPassesAndFails) {
  auto r = report_with("Efficacy", {rate_metric("efficacy_top1", 99, 100)});
  const auto spec = GateSpec::from_json(
      json::parse(R"({"gates":[{"suite":"Efficacy","metric":"efficacy_top1","min":0.99}]})"), "spec.json");
  evaluate_gates(spec, r);
  ASSERT_EQ(r.gates.size(), 1u);
  EXPECT_TRUE(r.passed);
  auto r2 = report_with("Efficacy", {rate_metric("efficacy_top1", 98, 100)});
  evaluate_gates(spec, r2);
  EXPECT_FALSE(r2.passed);
  EXPECT_DOUBLE_EQ(r2.gates[0].tested_value, 0.98);
}

TEST(Gates, WilsonLowerBoundIsWhatIsTested) {
  auto r = report_with("Efficacy", {rate_metric("efficacy_top1", 10, 10)});
  const auto spec = GateSpec::from_json(
      json::parse(R"({"gates":[{"suite":"Efficacy","metric":"efficacy_top1","min":0.9,"on":"wilson_lower"}]})"),
      "spec.json");
  evaluate_gates(spec, r);
  EXPECT_FALSE(r.passed) << "10/10 has a Wilson lower bound of 0.72";
  EXPECT_NEAR(r.gates[0].tested_value, 0.7225, 1e-3);
}

TEST(Gates, MaxDropVsBaseComparesWithTheBaseMetric) {
  editgate::harness::Metric now{"fact_recall", 0.95};
  editgate::harness::Metric base{"fact_recall_base", 0.98};
  auto r = report_with("ErasureImpact", {now, base});
  const auto spec = GateSpec::from_json(
      json::parse(R"({"gates":[{"suite":"ErasureImpact","metric":"fact_recall","max_drop_vs_base":0.02}]})"), "s");
  evaluate_gates(spec, r);
  EXPECT_FALSE(r.passed);
  EXPECT_NEAR(r.gates[0].tested_value, 0.03, 1e-12);
}

TEST(Gates, ReportOnlyGatesNeverFailTheRun) {
  auto r = report_with("RippleEffects", {rate_metric("subject_aliasing", 0, 10)});
  const auto spec = GateSpec::from_json(
      json::parse(R"({"gates":[{"suite":"RippleEffects","metric":"subject_aliasing","min":0.5,"report_only":true}]})"),
      "s");
  evaluate_gates(spec, r);
  EXPECT_TRUE(r.passed);
  EXPECT_FALSE(r.gates[0].passed);
}

TEST(Gates, UnknownMetricListsTheValidOnes) {
  auto r = report_with("Efficacy", {rate_metric("efficacy_top1", 1, 1)});
  const auto spec =
      GateSpec::from_json(json::parse(R"({"gates":[{"suite":"Efficacy","metric":"efficacy","min":0.9}]})"), "spec.json");
  try {
    evaluate_gates(spec, r, "spec.json");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("spec.json"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("efficacy_top1"), std::string::npos);
  }
}

TEST(Gates, SuitesThatDidNotRunAreNotGated) {
  auto r = report_with("Efficacy", {rate_metric("efficacy_top1", 1, 1)});
  evaluate_gates(GateSpec::defaults(), r);
  EXPECT_EQ(r.gates.size(), 1u);
  EXPECT_TRUE(r.passed);
}

// A rate over no trials (the base model answered none of the paraphrases) is
// no data: the gate neither passes nor fails, and the run passes on the others.
TEST(Gates, RateOverNoTrialsIsNoDataAndDoesNotFailTheRun) {
  auto r = report_with("Efficacy", {rate_metric("efficacy_top1", 100, 100)});
  SuiteResult paraphrase;
  paraphrase.name = "ParaphraseGeneralization";
  paraphrase.metrics = {rate_metric("paraphrase_top1", 0, 0)};
  r.suites.push_back(paraphrase);
  evaluate_gates(GateSpec::defaults(), r);
  ASSERT_EQ(r.gates.size(), 2u);
  EXPECT_FALSE(r.gates[0].no_data);
  EXPECT_TRUE(r.gates[1].no_data);
  EXPECT_FALSE(r.gates[1].passed);
  EXPECT_FALSE(editgate::harness::gate_failed(r.gates[1]));
  EXPECT_TRUE(r.passed);
}

TEST(Gates, NoDataWhateverTheBoundOrTheSideOfADrop) {
  const auto spec = GateSpec::from_json(json::parse(R"({"gates":[
      {"suite":"S","metric":"rate","max":0.02},
      {"suite":"S","metric":"rate","min":0.5,"on":"wilson_lower"},
      {"suite":"S","metric":"recall","max_drop_vs_base":0.02},
      {"suite":"S","metric":"entropy","max":0.05}]})"),
                                        "spec.json");
  editgate::harness::Metric entropy;  // not a rate: n = 0 and no interval, like every non-rate
  entropy.name = "entropy";
  entropy.value = 0.01;
  auto r = report_with("S", {rate_metric("rate", 0, 0), rate_metric("recall", 9, 10), rate_metric("recall_base", 0, 0),
                             entropy});
  evaluate_gates(spec, r);
  ASSERT_EQ(r.gates.size(), 4u);
  EXPECT_TRUE(r.gates[0].no_data) << "a max gate would have passed on the conventional 0";
  EXPECT_TRUE(r.gates[1].no_data);
  EXPECT_TRUE(r.gates[2].no_data) << "the base has no data";
  EXPECT_FALSE(r.gates[3].no_data) << "a non-rate has n = 0 and still has a value";
  EXPECT_TRUE(r.gates[3].passed);
  EXPECT_TRUE(r.passed);
}

TEST(Gates, RunWhoseEnforcedGatesAllLackDataDoesNotPass) {
  auto r = report_with("ParaphraseGeneralization", {rate_metric("paraphrase_top1", 0, 0)});
  r.suites[0].metrics.push_back(rate_metric("paraphrase_top1_all", 9, 10));
  const auto spec = GateSpec::from_json(json::parse(R"({"gates":[
      {"suite":"ParaphraseGeneralization","metric":"paraphrase_top1","min":0.9},
      {"suite":"ParaphraseGeneralization","metric":"paraphrase_top1_all","min":0.5,"report_only":true}]})"),
                                        "spec.json");
  evaluate_gates(spec, r);
  ASSERT_EQ(r.gates.size(), 2u);
  EXPECT_TRUE(r.gates[0].no_data);
  EXPECT_TRUE(r.gates[1].passed);
  EXPECT_FALSE(r.passed) << "a report-only gate with data decides nothing";
  evaluate_gates(GateSpec{}, r);
  EXPECT_TRUE(r.passed) << "no gates at all: nothing failed, as before";
}

TEST(GateSpec, RejectsMalformedRules) {
  const auto bad = [](const char* text) {
    EXPECT_THROW(GateSpec::from_json(json::parse(text), "spec.json"), InputError) << text;
  };
  bad(R"([])");
  bad(R"({"gates":{}})");
  bad(R"({"gates":[{"metric":"m","min":1}]})");
  bad(R"({"gates":[{"suite":"S","metric":"m"}]})");
  bad(R"({"gates":[{"suite":"S","metric":"m","min":1,"max":2}]})");
  bad(R"({"gates":[{"suite":"S","metric":"m","min":"high"}]})");
  bad(R"({"gates":[{"suite":"S","metric":"m","min":1,"on":"median"}]})");
  bad(R"({"gates":[{"suite":"S","metric":"m","min":1,"colour":"red"}]})");
}

TEST(GateSpec, DefaultsRoundTripThroughJson) {
  const auto spec = GateSpec::defaults();
  const auto again = GateSpec::from_json(spec.to_json(), "x");
  EXPECT_EQ(spec.to_json(), again.to_json());
  EXPECT_GE(spec.rules.size(), 6u);
}

}  // namespace
