#include "reports/json_report_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "tests/reports/sample_report.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace editgate::reports;
using editgate::reports::testing::fresh_temp_dir;
using editgate::reports::testing::no_data_report;
using editgate::reports::testing::run_command;
using editgate::reports::testing::sample_report;

const fs::path kSchema = fs::path(EDITGATE_SOURCE_DIR) / "reports" / "report.schema.json";
const fs::path kValidator = fs::path(EDITGATE_SOURCE_DIR) / "tests" / "reports" / "validate_json_schema.py";

// Validates `doc` against reports/report.schema.json with python3-jsonschema.
editgate::reports::testing::CommandResult validate(const std::string& doc, const std::string& name) {
  const fs::path file = fs::path(fresh_temp_dir("schema_" + name)) / "report.json";
  std::ofstream(file) << doc;
  auto r = run_command(std::string(EDITGATE_PYTHON3) + " '" + kValidator.string() + "' '" + kSchema.string() + "' '" +
                       file.string() + "'");
  if (r.exit_code == 2) {
    ADD_FAILURE() << "cannot run the JSON Schema validator (" << EDITGATE_PYTHON3
                  << "; run scripts/setup.sh, which installs python3-jsonschema): " << r.output;
  }
  return r;
}

TEST(ReportJson, HoldsMetadataSuitesGatesAndVerdict) {
  const json j = json::parse(report_json(sample_report(false)));
  EXPECT_EQ(j["schema_version"], 1);
  EXPECT_EQ(j["verdict"], "fail");
  EXPECT_EQ(j["passed"], false);
  EXPECT_EQ(j["metadata"]["edited_sha256"], std::string(64, 'b'));
  EXPECT_EQ(j["metadata"]["seed"], 1234);
  EXPECT_EQ(j["metadata"]["phase_seconds"]["suites"], 42.25);
  EXPECT_EQ(j["summary"]["cases_failed"], 1);
  EXPECT_EQ(j["summary"]["suites_skipped"], 1);
  EXPECT_EQ(j["summary"]["gates_failed"], 3);
  EXPECT_EQ(j["summary"]["gates_report_only_failed"], 1);
  ASSERT_EQ(j["suites"].size(), 5u);
  EXPECT_EQ(j["suites"][1]["status"], "failed");
  EXPECT_EQ(j["suites"][3]["status"], "passed");  // only a report-only gate failed there
  EXPECT_EQ(j["suites"][4]["status"], "skipped");
  const json& failed_case = j["suites"][1]["cases"][7];
  EXPECT_EQ(failed_case["passed"], false);
  EXPECT_NE(failed_case["message"].get<std::string>().find("top-1 changed"), std::string::npos);
  const json& metric = j["suites"][0]["metrics"][0];
  EXPECT_EQ(metric["n"], 200);
  EXPECT_TRUE(metric.contains("ci_low") && metric.contains("ci_high"));
  EXPECT_EQ(metric["family"], "counterfact");
  const json& drop = j["gates"][2];
  EXPECT_EQ(drop["bound_kind"], "max_drop_vs_base");
  EXPECT_NEAR(drop["base_value"].get<double>(), 0.95, 1e-12);
  EXPECT_EQ(drop["statement"], "fact_recall: drop vs base 0.05 > max 0.02 (base 0.95, edited 0.9, 95% CI [0.8798, 0.9171], n=1000)");
}

TEST(ReportJson, EmbedsFiguresAsJsonAndListsBadOnes) {
  auto report = sample_report(true);
  report.figures["probe:broken"] = R"({"chance": 0.5, "bars": []})";
  report.figures["cot_curve:garbled"] = "{\"fractions\": [0,";
  const json j = json::parse(report_json(report));
  EXPECT_TRUE(j["figures"]["causal_trace"]["scores"].is_array());
  EXPECT_EQ(j["figures"]["sequential:rome"]["series"][1]["label"], "fact preservation");
  EXPECT_EQ(j["figures"]["attention_entropy"]["values"][2], 3);  // unknown kinds pass through
  EXPECT_FALSE(j["figures"].contains("probe:broken"));
  EXPECT_NE(j["figure_errors"]["probe:broken"].get<std::string>().find("bars"), std::string::npos);
  EXPECT_NE(j["figure_errors"]["cot_curve:garbled"].get<std::string>().find("not valid JSON"), std::string::npos);
}

TEST(ReportJson, WritesNonFiniteAsNullAndReplacesInvalidUtf8) {
  auto report = sample_report(true);
  report.suites[2].metrics[2].value = std::nan("");
  report.suites[0].cases[0].message = "bytes \xff\xfe from a generation";
  const std::string text = report_json(report);
  const json j = json::parse(text);  // parses: the bad bytes became U+FFFD
  EXPECT_TRUE(j["suites"][2]["metrics"][2]["value"].is_null());
  EXPECT_EQ(j["suites"][0]["cases"][0]["message"], "bytes \xef\xbf\xbd\xef\xbf\xbd from a generation");
  EXPECT_EQ(validate(text, "nan").exit_code, 0);
}

TEST(ReportJson, GeneratedReportsValidateAgainstSchema) {
  for (const bool passing : {true, false}) {
    const auto r = validate(report_json(sample_report(passing)), passing ? "pass" : "fail");
    EXPECT_EQ(r.exit_code, 0) << r.output;
  }
  const auto empty = validate(report_json(editgate::harness::RunReport{}), "empty");
  EXPECT_EQ(empty.exit_code, 0) << empty.output;
}

TEST(ReportJson, GateWithoutDataIsNoDataNotFailed) {
  const std::string text = report_json(no_data_report(false));
  const json j = json::parse(text);
  EXPECT_EQ(j["verdict"], "pass");
  const json& g = j["gates"].back();
  EXPECT_EQ(g["metric"], "paraphrase_top1");
  EXPECT_EQ(g["status"], "no_data");
  EXPECT_EQ(g["passed"], false);
  EXPECT_EQ(g["measured"]["n"], 0);
  EXPECT_EQ(g["statement"], "paraphrase_top1: no data (n = 0), min 0.9 not tested");
  EXPECT_EQ(j["gates"][0]["status"], "pass");
  EXPECT_EQ(j["summary"]["gates_no_data"], 1);
  EXPECT_EQ(j["summary"]["gates_failed"], 0);
  EXPECT_EQ(j["suites"].back()["status"], "passed");
  const auto r = validate(text, "no_data");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const std::string only = report_json(no_data_report(true));
  EXPECT_EQ(json::parse(only)["verdict"], "fail") << "no enforced gate had data";
  const auto r2 = validate(only, "only_no_data");
  EXPECT_EQ(r2.exit_code, 0) << r2.output;
}

TEST(ReportJson, SchemaStillAcceptsReportsWithoutGateStatus) {
  json old = json::parse(report_json(sample_report(false)));  // as written before status existed
  for (auto& g : old["gates"]) g.erase("status");
  old["summary"].erase("gates_no_data");
  const auto r = validate(old.dump(2), "old");
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST(ReportJson, SchemaRejectsInvalidReports) {
  const json good = json::parse(report_json(sample_report(false)));
  struct Mutation {
    const char* what;
    std::function<void(json&)> apply;
    const char* pointer;  // where the validator must say the problem is
  };
  const std::vector<Mutation> mutations = {
      {"no schema_version", [](json& j) { j.erase("schema_version"); }, "/:"},
      {"future schema_version", [](json& j) { j["schema_version"] = 2; }, "/schema_version"},
      {"verdict disagrees with passed", [](json& j) { j["verdict"] = "pass"; }, "/verdict"},
      {"unsanitised case name", [](json& j) { j["suites"][0]["cases"][0]["name"] = "Danielle Darrieux"; },
       "/suites/0/cases/0/name"},
      {"negative n", [](json& j) { j["suites"][0]["metrics"][0]["n"] = -1; }, "/suites/0/metrics/0/n"},
      {"interval half missing", [](json& j) { j["gates"][0]["measured"].erase("ci_high"); }, "/gates/0/measured"},
      {"unknown bound kind", [](json& j) { j["gates"][0]["bound_kind"] = "at_least"; }, "/gates/0/bound_kind"},
      {"unknown gate status", [](json& j) { j["gates"][0]["status"] = "skipped"; }, "/gates/0/status"},
      {"status disagrees with passed", [](json& j) { j["gates"][0]["status"] = "pass"; }, "/gates/0/passed"},
      {"no data yet passed", [](json& j) { j["gates"][1]["status"] = "no_data", j["gates"][1]["passed"] = true; },
       "/gates/1/passed"},
      {"figure without scores", [](json& j) { j["figures"]["causal_trace"].erase("scores"); },
       "/figures/causal_trace"},
      {"bad sha256", [](json& j) { j["metadata"]["base_sha256"] = "ABC"; }, "/metadata/base_sha256"},
      {"unknown field", [](json& j) { j["extra"] = 1; }, "/:"},
  };
  for (size_t i = 0; i < mutations.size(); ++i) {
    json bad = good;
    mutations[i].apply(bad);
    const auto r = validate(bad.dump(2), "bad" + std::to_string(i));
    EXPECT_EQ(r.exit_code, 1) << mutations[i].what << ": " << r.output;
    EXPECT_NE(r.output.find(mutations[i].pointer), std::string::npos) << mutations[i].what << ": " << r.output;
  }
}

TEST(ReportJson, WritesAtomically) {
  const fs::path dir = fresh_temp_dir("json_write");
  const auto report = sample_report(true);
  write_report_json(report, dir / "sub" / "report.json");
  std::ifstream in(dir / "sub" / "report.json");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, report_json(report));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir / "sub"), fs::directory_iterator{}), 1);
}

}  // namespace
