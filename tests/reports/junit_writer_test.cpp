#include "reports/junit_writer.h"

#include <gtest/gtest.h>
#include <pugixml.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "tests/reports/sample_report.h"

namespace {

namespace fs = std::filesystem;
using namespace editgate::reports;
using editgate::reports::testing::fresh_temp_dir;
using editgate::reports::testing::no_data_report;
using editgate::reports::testing::run_command;
using editgate::reports::testing::sample_report;

const fs::path kSchemas = fs::path(EDITGATE_SOURCE_DIR) / "tests" / "schemas";
const fs::path kJenkins = kSchemas / "junit-10.xsd";
const fs::path kAnt = kSchemas / "ant-junit.xsd";

pugi::xml_document parse(const std::string& xml) {
  pugi::xml_document doc;
  const auto ok = doc.load_string(xml.c_str());
  EXPECT_TRUE(ok) << ok.description() << "\n" << xml;
  return doc;
}

pugi::xml_node suite_named(const pugi::xml_document& doc, const char* name) {
  return doc.child("testsuites").find_child_by_attribute("testsuite", "name", name);
}

std::string property(pugi::xml_node suite, const std::string& name) {
  return suite.child("properties").find_child_by_attribute("property", "name", name.c_str()).attribute("value").value();
}

// xmllint's exit status and messages for `xml` against `schema`.
editgate::reports::testing::CommandResult xmllint(const std::string& xml, const fs::path& schema,
                                                  const std::string& name) {
  const fs::path file = fs::path(fresh_temp_dir("junit_" + name)) / "junit.xml";
  std::ofstream(file) << xml;
  auto r = run_command(std::string(EDITGATE_XMLLINT) + " --noout --schema '" + schema.string() + "' '" +
                       file.string() + "'");
  if (r.exit_code == 127) {  // the shell found no such command
    ADD_FAILURE() << "cannot run xmllint (libxml2-utils; scripts/setup.sh installs it): " << r.output;
  }
  return r;
}

std::string to_string(const pugi::xml_document& doc) {
  std::ostringstream os;
  doc.save(os, "  ");
  return os.str();
}

TEST(Junit, OneTestsuitePerSuiteAndOneTestcasePerCase) {
  const auto doc = parse(junit_xml(sample_report(true)));
  const auto root = doc.child("testsuites");
  EXPECT_TRUE(root.first_attribute().empty());  // Ant allows no attributes here
  int id = 0;
  for (const char* name : {"Efficacy", "FactPreservation", "ErasureImpact", "RippleEffects", "CoTTruncation"}) {
    const auto s = suite_named(doc, name);
    ASSERT_TRUE(s) << name;
    EXPECT_EQ(s.attribute("id").as_int(), id++);
    EXPECT_STREQ(s.attribute("package").value(), "editgate");
    EXPECT_STREQ(s.attribute("hostname").value(), "ci-runner-7");
    EXPECT_STREQ(s.attribute("timestamp").value(), "2026-11-25T22:21:19");
    for (const auto tc : s.children("testcase")) EXPECT_STREQ(tc.attribute("classname").value(), name);
  }
  const auto eff = suite_named(doc, "Efficacy");
  EXPECT_EQ(eff.attribute("tests").as_int(), 4);  // three cases and the gate
  EXPECT_EQ(eff.attribute("failures").as_int(), 0);
  EXPECT_STREQ(eff.attribute("time").value(), "3.500");
  EXPECT_TRUE(eff.find_child_by_attribute("testcase", "name", "Danielle_Darrieux_2"));
  EXPECT_TRUE(eff.find_child_by_attribute("testcase", "name", "gate.efficacy_top1"));
  EXPECT_EQ(suite_named(doc, "FactPreservation").attribute("tests").as_int(), 41);
}

TEST(Junit, FailuresStateValueAgainstBound) {
  const auto doc = parse(junit_xml(sample_report(false)));
  const auto eff = suite_named(doc, "Efficacy");
  EXPECT_EQ(eff.attribute("failures").as_int(), 1);
  const auto gate = eff.find_child_by_attribute("testcase", "name", "gate.efficacy_top1").child("failure");
  ASSERT_TRUE(gate);
  EXPECT_STREQ(gate.attribute("type").value(), "editgate.gate");
  EXPECT_STREQ(gate.attribute("message").value(), "efficacy_top1: value 0.9 < min 0.99 (95% CI [0.8506, 0.9343], n=200)");

  const auto pres = suite_named(doc, "FactPreservation");
  EXPECT_EQ(pres.attribute("failures").as_int(), 2);  // the case and the Wilson-bound gate
  const auto fact = pres.find_child_by_attribute("testcase", "name", "fact_7").child("failure");
  ASSERT_TRUE(fact);
  EXPECT_EQ(std::string(fact.attribute("message").value()).rfind("top-1 changed: 'The Eiffel Tower is in'", 0), 0u);
  EXPECT_NE(std::string(fact.text().get()).find("p_edited_object = 0.12"), std::string::npos);
  EXPECT_NE(std::string(fact.text().get()).find("case_id: pres-7"), std::string::npos);
  const auto wilson = pres.find_child_by_attribute("testcase", "name", "gate.unrelated_top1_unchanged").child("failure");
  EXPECT_NE(std::string(wilson.attribute("message").value()).find("Wilson lower bound 0.946 < min 0.98"),
            std::string::npos)
      << wilson.attribute("message").value();

  // A report-only gate that does not hold is shown, but is not a failure.
  const auto ripple = suite_named(doc, "RippleEffects");
  EXPECT_EQ(ripple.attribute("failures").as_int(), 0);
  EXPECT_FALSE(ripple.find_child_by_attribute("testcase", "name", "gate.subject_aliasing").child("failure"));
  EXPECT_EQ(property(ripple, "gate.subject_aliasing"), "fail (report-only)");
}

TEST(Junit, MetricsAreSuiteProperties) {
  const auto doc = parse(junit_xml(sample_report(true)));
  const auto eff = suite_named(doc, "Efficacy");
  EXPECT_EQ(property(eff, "efficacy_top1"), "1");
  EXPECT_EQ(property(eff, "efficacy_top1.n"), "200");
  EXPECT_FALSE(property(eff, "efficacy_top1.ci_low").empty());
  EXPECT_EQ(property(eff, "gate.efficacy_top1"), "pass");
  EXPECT_EQ(property(eff, "case.Danielle_Darrieux_1.p_new"), "0.8500000000000001");  // exact, round-trips
  EXPECT_EQ(property(eff, "editgate.edited_sha256"), std::string(64, 'b'));
  EXPECT_EQ(property(eff, "editgate.verdict"), "pass");
  EXPECT_NE(std::string(eff.child("system-out").text().get()).find("gate pass: efficacy_top1: value 1 >= min 0.99"),
            std::string::npos);
}

TEST(Junit, SkippedSuiteIsSkipped) {
  const auto doc = parse(junit_xml(sample_report(true)));
  const auto cot = suite_named(doc, "CoTTruncation");
  EXPECT_EQ(cot.attribute("tests").as_int(), 1);
  EXPECT_EQ(cot.attribute("skipped").as_int(), 1);
  EXPECT_EQ(cot.attribute("failures").as_int(), 0);
  const auto skipped = cot.child("testcase").child("skipped");
  ASSERT_TRUE(skipped);
  EXPECT_STREQ(skipped.attribute("message").value(), "no chain-of-thought prompts in the requests file");
}

TEST(Junit, GateWithoutDataIsSkippedWithItsReason) {
  const std::string xml = junit_xml(no_data_report(false));
  const auto doc = parse(xml);
  const auto s = suite_named(doc, "ParaphraseGeneralization");
  ASSERT_TRUE(s);
  const auto tc = s.find_child_by_attribute("testcase", "name", "gate.paraphrase_top1");
  ASSERT_TRUE(tc);
  EXPECT_FALSE(tc.child("failure"));
  EXPECT_STREQ(tc.child("skipped").attribute("message").value(),
               "no data: paraphrase_top1: no data (n = 0), min 0.9 not tested");
  EXPECT_EQ(s.attribute("skipped").as_int(), 1);
  EXPECT_EQ(s.attribute("failures").as_int(), 0);
  EXPECT_EQ(property(s, "gate.paraphrase_top1"), "no data (n = 0)");
  EXPECT_EQ(property(s, "editgate.verdict"), "pass");
  for (const auto& schema : {kJenkins, kAnt}) {
    const auto r = xmllint(xml, schema, "no_data_" + schema.stem().string());
    EXPECT_EQ(r.exit_code, 0) << schema << ": " << r.output;
  }
}

TEST(Junit, GatesWithoutDataFailWhenNoEnforcedGateHadData) {
  const auto doc = parse(junit_xml(no_data_report(true)));
  const auto s = suite_named(doc, "ParaphraseGeneralization");
  const auto tc = s.find_child_by_attribute("testcase", "name", "gate.paraphrase_top1");
  EXPECT_FALSE(tc.child("skipped"));
  const std::string message = tc.child("failure").attribute("message").value();
  EXPECT_EQ(message.rfind("no data: ", 0), 0u) << message;
  EXPECT_NE(message.find("no enforced gate of this run had data"), std::string::npos) << message;
  EXPECT_EQ(s.attribute("failures").as_int(), 1);
  EXPECT_EQ(property(s, "editgate.verdict"), "fail");
}

TEST(Junit, ValidatesAgainstJenkinsAndAntSchemas) {
  auto hostile = sample_report(false);
  hostile.meta.hostname.clear();    // becomes "localhost"
  hostile.meta.timestamp.clear();   // becomes the current UTC time
  hostile.suites[0].cases[0].passed = false;
  hostile.suites[0].cases[0].message = "ctrl \x01\x02 bytes \xff and ]]> <tags> & \"quotes\"\n";
  hostile.suites[0].seconds = -1;   // clamped to 0.000
  hostile.suites[1].name = " ";     // Ant needs a non-empty token
  hostile.suites[1].metrics[0].name.clear();
  const std::vector<std::pair<std::string, editgate::harness::RunReport>> reports = {
      {"pass", sample_report(true)}, {"fail", sample_report(false)}, {"empty", {}}, {"hostile", hostile}};
  for (const auto& [name, report] : reports) {
    const std::string xml = junit_xml(report);
    for (const auto& schema : {kJenkins, kAnt}) {
      const auto r = xmllint(xml, schema, name);
      EXPECT_EQ(r.exit_code, 0) << name << " against " << schema.filename() << ":\n" << r.output << "\n" << xml;
    }
  }
}

TEST(Junit, SchemasRejectInvalidDocuments) {
  const std::string good = junit_xml(sample_report(false));
  struct Mutation {
    const char* what;
    std::function<void(pugi::xml_node)> apply;  // applied to the first <testsuite>
    bool jenkins_rejects;
  };
  const std::vector<Mutation> mutations = {
      {"timestamp with a fraction (GoogleTest style)",
       [](pugi::xml_node s) { s.attribute("timestamp").set_value("2026-11-25T22:21:19.736"); }, false},
      {"no hostname", [](pugi::xml_node s) { s.remove_attribute("hostname"); }, false},
      {"no id", [](pugi::xml_node s) { s.remove_attribute("id"); }, false},
      {"no system-err", [](pugi::xml_node s) { s.remove_child("system-err"); }, false},
      {"attributes on testsuites", [](pugi::xml_node s) { s.parent().append_attribute("tests").set_value(3); }, false},
      {"failure without type", [](pugi::xml_node s) {
         s.find_child_by_attribute("testcase", "name", "gate.efficacy_top1").child("failure").remove_attribute("type");
       }, false},
      {"no errors attribute (ctest style)", [](pugi::xml_node s) { s.remove_attribute("errors"); }, true},
      {"properties under a testcase", [](pugi::xml_node s) {
         s.child("testcase").append_child("properties");
       }, true},
      {"status attribute on a testcase (GoogleTest style)", [](pugi::xml_node s) {
         s.child("testcase").append_attribute("status").set_value("run");
       }, true},
  };
  for (size_t i = 0; i < mutations.size(); ++i) {
    auto doc = parse(good);
    mutations[i].apply(doc.child("testsuites").child("testsuite"));
    const std::string bad = to_string(doc);
    const auto ant = xmllint(bad, kAnt, "ant" + std::to_string(i));
    EXPECT_NE(ant.exit_code, 0) << mutations[i].what << " passed the Ant schema";
    EXPECT_NE(ant.output.find("fails to validate"), std::string::npos) << ant.output;
    const auto jenkins = xmllint(bad, kJenkins, "jenkins" + std::to_string(i));
    EXPECT_EQ(jenkins.exit_code != 0, mutations[i].jenkins_rejects) << mutations[i].what << ":\n" << jenkins.output;
  }
}

TEST(Junit, WritesAtomically) {
  const fs::path dir = fresh_temp_dir("junit_write");
  const auto report = sample_report(false);
  write_junit_xml(report, dir / "junit.xml");
  std::ifstream in(dir / "junit.xml");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, junit_xml(report));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), 1);
}

}  // namespace
