// editgate-suites: the suites as a GoogleTest program, for CI that wants
// gtest's own JUnit (--gtest_output=xml:...), filters and sharding. The run
// configuration comes from flags (same names as `editgate gate`) or a JSON
// file (--config). The models are loaded and measured once per process, before
// the tests run; each (suite, case) is then one registered test, named after
// the case, whose failure message says which facts broke.
//
//   editgate-suites --base DIR --edited DIR --requests FILE [--gtest_filter=Efficacy.*]

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>
#include <nlohmann/json.hpp>

#include "harness/input_error.h"
#include "harness/json_file.h"
#include "reports/report_format.h"
#include "suites/suite_runner.h"

namespace {

using editgate::harness::CaseResult;
using editgate::harness::RunReport;

// Environment: records the run's metadata and gate verdicts as <testsuites> properties.
class GateEnvironment : public ::testing::Environment {
 public:
  explicit GateEnvironment(const RunReport& report) : report_(report) {}
  void SetUp() override {
    ::testing::Test::RecordProperty("base_sha256", report_.meta.base_sha256);
    ::testing::Test::RecordProperty("edited_sha256", report_.meta.edited_sha256);
    ::testing::Test::RecordProperty("verdict", report_.passed ? "pass" : "fail");
  }

 private:
  const RunReport& report_;
};

class CaseTest : public ::testing::Test {
 public:
  explicit CaseTest(const CaseResult* c) : case_(c) {}
  void TestBody() override {
    for (const auto& m : case_->metrics) {
      // gtest 1.12 RecordProperty(key, double) truncates to int: format it ourselves.
      RecordProperty(m.name, editgate::reports::format_exact(m.value));
    }
    EXPECT_TRUE(case_->passed) << case_->message;
  }

 private:
  const CaseResult* case_;
};

class GateTest : public ::testing::Test {
 public:
  GateTest(const editgate::harness::GateResult* g, const RunReport& report) : gate_(g), report_(report) {}
  void TestBody() override {
    RecordProperty("value", editgate::reports::format_exact(gate_->tested_value));
    RecordProperty("bound", editgate::reports::format_exact(gate_->bound));
    if (gate_->report_only) return;
    if (gate_->no_data) {
      // Neutral, as in junit.xml, unless no enforced gate had data: then the run fails on them.
      const std::string why = "no data: " + editgate::reports::gate_statement(*gate_);
      if (!editgate::harness::enforced_gates_lack_data(report_.gates)) GTEST_SKIP() << why;
      FAIL() << why << "; no enforced gate of this run had data";
    }
    EXPECT_TRUE(gate_->passed) << gate_->suite << "." << gate_->metric << " = " << gate_->tested_value << " ("
                               << gate_->on << "), " << gate_->bound_kind << " " << gate_->bound;
  }

 private:
  const editgate::harness::GateResult* gate_;
  const RunReport& report_;
};

std::string take_flag(int& argc, char** argv, const std::string& name) {
  for (int i = 1; i < argc; ++i) {
    if (argv[i] == name && i + 1 < argc) {
      std::string value = argv[i + 1];
      for (int k = i; k + 2 <= argc; ++k) argv[k] = argv[k + 2];
      argc -= 2;
      return value;
    }
  }
  return {};
}

editgate::suites::RunConfig parse_config(int& argc, char** argv) {
  editgate::suites::RunConfig c;
  if (const auto file = take_flag(argc, argv, "--config"); !file.empty()) {
    const auto j = editgate::harness::read_json_file(file, "a readable run configuration");
    if (!j.is_object()) throw editgate::InputError(file, "", "a JSON object", j.type_name());
    // A misspelt key would silently drop an input (a spec, the preservation facts).
    static const std::set<std::string> kKeys = {"base", "edited", "requests", "preservation", "cot", "spec", "device"};
    for (const auto& [key, value] : j.items()) {
      if (!kKeys.count(key)) {
        throw editgate::InputError(file, key, "one of base, edited, requests, preservation, cot, spec, device",
                                   "an unknown key");
      }
      if (!value.is_string()) throw editgate::InputError(file, key, "a string (a path)", value.type_name());
    }
    const auto str = [&](const char* k) { return j.contains(k) ? j[k].get<std::string>() : std::string(); };
    c.base_dir = str("base");
    c.edited_dir = str("edited");
    c.requests = str("requests");
    c.preservation = str("preservation");
    c.cot = str("cot");
    c.spec = str("spec");
    if (j.contains("device")) c.device = str("device");
  }
  if (auto v = take_flag(argc, argv, "--base"); !v.empty()) c.base_dir = v;
  if (auto v = take_flag(argc, argv, "--edited"); !v.empty()) c.edited_dir = v;
  if (auto v = take_flag(argc, argv, "--requests"); !v.empty()) c.requests = v;
  if (auto v = take_flag(argc, argv, "--preservation"); !v.empty()) c.preservation = v;
  if (auto v = take_flag(argc, argv, "--cot"); !v.empty()) c.cot = v;
  if (auto v = take_flag(argc, argv, "--spec"); !v.empty()) c.spec = v;
  if (auto v = take_flag(argc, argv, "--device"); !v.empty()) c.device = v;
  for (const char* required : {"base", "edited", "requests"}) {
    const bool missing = (std::string(required) == "base" && c.base_dir.empty()) ||
                         (std::string(required) == "edited" && c.edited_dir.empty()) ||
                         (std::string(required) == "requests" && c.requests.empty());
    if (missing) throw editgate::InputError("", std::string("--") + required, "a path (or --config FILE)", "nothing");
  }
  c.show_progress = false;
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  static RunReport report;
  try {
    report = editgate::suites::run_gate(parse_config(argc, argv));
  } catch (const editgate::InputError& e) {
    std::cerr << "editgate-suites: error: " << e.what() << "\n";
    return 2;
  }
  ::testing::AddGlobalTestEnvironment(new GateEnvironment(report));
  for (const auto& suite : report.suites) {
    if (suite.skipped) continue;
    for (const auto& c : suite.cases) {
      const CaseResult* ptr = &c;
      ::testing::RegisterTest(suite.name.c_str(), c.name.c_str(), nullptr, nullptr, __FILE__, __LINE__,
                              [ptr]() -> ::testing::Test* { return new CaseTest(ptr); });
    }
  }
  for (const auto& g : report.gates) {
    const auto* ptr = &g;
    const std::string name = editgate::suites::sanitize_case_name(g.suite + "_" + g.metric);
    ::testing::RegisterTest("Gates", name.c_str(), nullptr, nullptr, __FILE__, __LINE__,
                            [ptr]() -> ::testing::Test* { return new GateTest(ptr, report); });
  }
  return RUN_ALL_TESTS();
}
