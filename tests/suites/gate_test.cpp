// The gate end to end on the committed fixture: an unedited copy passes the
// preservation gates, a damaged copy (noise in layer 0's MLP W_out) fails
// FactPreservation, and the JUnit report names the facts it broke.

#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "harness/checkpoint.h"
#include "harness/input_error.h"
#include "reports/junit_writer.h"
#include "suites/case_set.h"
#include "suites/suite_runner.h"
#include "suites/suites.h"
#include "harness/remove_tree.h"

namespace {

namespace fs = std::filesystem;

fs::path fixture_dir() { return fs::path(EDITGATE_SOURCE_DIR) / "fixtures" / "default"; }

class GateOnFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_TRUE(fs::exists(fixture_dir() / "config.json")) << "no committed fixture at " << fixture_dir();
    scratch_ = fs::temp_directory_path() / ("editgate_gate_test_" + std::to_string(::getpid()));
    fs::create_directories(scratch_);
    // Ten cases are enough to exercise every edit suite.
    std::ifstream in(fixture_dir() / "requests" / "edits.counterfact.json");
    auto all = nlohmann::json::parse(in);
    nlohmann::json some = nlohmann::json::array();
    for (size_t i = 0; i < 10; ++i) some.push_back(all[i]);
    std::ofstream(scratch_ / "requests.json") << some.dump();

    auto loaded = editgate::harness::load_model(fixture_dir(), {"cpu", "auto", true});
    at::manual_seed(7);
    // Layer 0's MLP is where the fixture looks its facts up (causal tracing and
    // ROME agree); the same noise in blocks.1 moves no top-1 answer.
    auto w = loaded.model->weight("blocks.0.mlp.W_out");
    w.add_(at::randn(w.sizes()) * w.std() * 3.0);
    editgate::harness::save_model(*loaded.model, scratch_ / "damaged", fixture_dir());
  }
  static void TearDownTestSuite() { editgate::harness::remove_tree(scratch_); }

  static editgate::suites::RunConfig config(const fs::path& edited) {
    editgate::suites::RunConfig c;
    c.base_dir = fixture_dir();
    c.edited_dir = edited;
    c.requests = scratch_ / "requests.json";
    c.preservation = fixture_dir() / "requests" / "preservation.json";
    c.device = "cpu";
    c.suites = {"FactPreservation"};
    c.show_progress = false;
    return c;
  }

  static fs::path scratch_;
};
fs::path GateOnFixture::scratch_;

const editgate::harness::SuiteResult& suite(const editgate::harness::RunReport& r, const std::string& name) {
  for (const auto& s : r.suites) {
    if (s.name == name) return s;
  }
  throw std::runtime_error("no suite " + name);
}

TEST_F(GateOnFixture, UneditedModelKeepsEveryFact) {
  const auto report = editgate::suites::run_gate(config(fixture_dir()));
  EXPECT_TRUE(report.passed);
  bool found = false;
  for (const auto& m : suite(report, "FactPreservation").metrics) {
    if (m.name != "unrelated_unchanged") continue;
    found = true;
    EXPECT_DOUBLE_EQ(m.value, 1.0);
  }
  EXPECT_TRUE(found) << "FactPreservation reports no unrelated_unchanged metric";
}

TEST_F(GateOnFixture, UnrelatedFactsLeaveOutTheEditedSubjects) {
  // Facts about an edited subject belong to Relation_Specificity, not to the
  // unrelated set: the metric's n must be the preservation facts minus those.
  const auto cases = editgate::suites::load_requests(scratch_ / "requests.json");
  const auto facts = editgate::suites::load_preservation(fixture_dir() / "requests" / "preservation.json");
  int64_t about_edited = 0;
  for (const auto& f : facts) {
    for (const auto& e : cases.edits) {
      if (f.subject == e.subject) {
        ++about_edited;
        break;
      }
    }
  }
  ASSERT_GT(about_edited, 0) << "the first ten cases' subjects have no preservation facts; pick other cases";
  const auto report = editgate::suites::run_gate(config(fixture_dir()));
  bool found = false;
  for (const auto& m : suite(report, "FactPreservation").metrics) {
    if (m.name != "unrelated_unchanged") continue;
    found = true;
    EXPECT_EQ(m.n, static_cast<int64_t>(facts.size()) - about_edited);
  }
  EXPECT_TRUE(found);
}

// Gate specs are checked against SuiteEntry::metrics before anything loads, so
// that list must hold every metric a suite can report: run every suite that the
// fixture's files feed (RippleEdits and CoT subsets, so it stays quick) and
// compare what each reports with what it declares.
TEST_F(GateOnFixture, EverySuiteReportsOnlyTheMetricsItDeclares) {
  const auto requests = fixture_dir() / "requests";
  nlohmann::json ripple = nlohmann::json::parse(std::ifstream(requests / "ripple.json"));
  ripple.erase(ripple.begin() + 6, ripple.end());
  std::ofstream(scratch_ / "ripple.json") << ripple.dump();
  nlohmann::json cot = nlohmann::json::parse(std::ifstream(requests / "cot.json"));
  cot["items"].erase(cot["items"].begin() + 8, cot["items"].end());
  std::ofstream(scratch_ / "cot.json") << cot.dump();

  std::map<std::string, std::vector<std::string>> declared;
  for (const auto& s : editgate::suites::all_suites()) declared[s.name] = s.metrics;
  std::set<std::string> ran;
  for (const auto& req : {scratch_ / "requests.json", scratch_ / "ripple.json"}) {
    auto c = config(fixture_dir());
    c.requests = req;
    c.cot = scratch_ / "cot.json";
    c.suites.clear();  // every suite
    const auto report = editgate::suites::run_gate(c);
    for (const auto& s : report.suites) {
      if (s.skipped) continue;
      ran.insert(s.name);
      ASSERT_TRUE(declared.count(s.name)) << s.name;
      for (const auto& m : s.metrics) {
        EXPECT_NE(std::find(declared[s.name].begin(), declared[s.name].end(), m.name), declared[s.name].end())
            << s.name << " reports '" << m.name << "', which its SuiteEntry does not declare";
      }
    }
  }
  for (const char* name : {"Efficacy", "ParaphraseGeneralization", "FactPreservation", "RippleEffects", "CoTTruncation",
                           "Fluency"}) {
    EXPECT_TRUE(ran.count(name)) << name << " did not run, so its metrics went unchecked";
  }
}

TEST_F(GateOnFixture, MisspeltMetricInTheSpecFailsBeforeAnyModelLoads) {
  const auto spec = scratch_ / "typo_spec.json";
  std::ofstream(spec) << R"({"gates": [{"suite": "Efficacy", "metric": "efficacy_top_1", "min": 0.9}]})";
  auto c = config(scratch_ / "no_such_checkpoint");  // loading it would fail: the spec must fail first
  c.spec = spec;
  try {
    editgate::suites::run_gate(c);
    FAIL() << "no error for a misspelt metric";
  } catch (const editgate::InputError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("gates[0].metric"), std::string::npos) << what;
    EXPECT_NE(what.find("efficacy_top_1"), std::string::npos) << what;
    EXPECT_NE(what.find("efficacy_top1"), std::string::npos) << what;  // the list of valid names
  }
  std::ofstream(spec) << R"({"gates": [{"suite": "Fluency", "metric": "entropy_relative_drop", "max_drop_vs_base": 0.1}]})";
  EXPECT_THROW(editgate::suites::run_gate(c), editgate::InputError);  // that metric has no _base
}

TEST_F(GateOnFixture, DamagedModelFailsFactPreservationNamingTheFacts) {
  const auto report = editgate::suites::run_gate(config(scratch_ / "damaged"));
  EXPECT_FALSE(report.passed);
  bool named = false;
  for (const auto& c : suite(report, "FactPreservation").cases) {
    if (!c.passed && c.message.find("' became '") != std::string::npos) named = true;
  }
  EXPECT_TRUE(named) << "no failed case names a broken fact";
  const auto xml = editgate::reports::junit_xml(report);
  EXPECT_NE(xml.find("<failure"), std::string::npos);
  EXPECT_NE(xml.find("became"), std::string::npos);
}

const editgate::harness::Metric& metric(const editgate::harness::SuiteResult& s, const std::string& name) {
  for (const auto& m : s.metrics) {
    if (m.name == name) return m;
  }
  throw std::runtime_error(s.name + " reports no " + name);
}

// The prompt names `subject` as whole words (spaces around it in the prompt padded
// with spaces): the test's own check, independent of the suite's.
bool names(const std::string& prompt, const std::string& subject) {
  return (" " + prompt + " ").find(" " + subject + " ") != std::string::npos;
}

// A neighbourhood prompt about a subject edited in the same run is an intended
// change: FactPreservation leaves it out of both neighbourhood rates and counts it.
// Prompts about other cases' subjects are added to case 0, on top of any the ten
// cases already have (they are single CounterFact cases, so their neighbours may
// be edited by another of them).
// Gating a second candidate of the same base reads the base's answers from the
// cache instead of asking the base again, and reports exactly what a run
// without the cache reports.
TEST_F(GateOnFixture, BaseCacheAnswersTheSecondGateWithTheSameReport) {
  auto c = config(scratch_ / "damaged");
  c.suites = {"Efficacy", "ParaphraseGeneralization", "FactPreservation", "Fluency"};
  const auto uncached = editgate::suites::run_gate(c);
  c.base_cache_dir = scratch_ / "base_cache";
  ::testing::internal::CaptureStderr();
  const auto first = editgate::suites::run_gate(c);
  const auto second = editgate::suites::run_gate(c);
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(log.find("answers: 0 from the cache"), std::string::npos) << log;  // the first run fills it
  EXPECT_NE(log.find("cache, 0 computed"), std::string::npos) << log;  // the second asks the base nothing
  for (const auto* run : {&first, &second}) {
    ASSERT_EQ(run->suites.size(), uncached.suites.size());
    for (size_t s = 0; s < uncached.suites.size(); ++s) {
      const auto& want = uncached.suites[s].metrics;
      const auto& got = run->suites[s].metrics;
      ASSERT_EQ(got.size(), want.size()) << uncached.suites[s].name;
      for (size_t m = 0; m < want.size(); ++m) {
        EXPECT_EQ(got[m].name, want[m].name);
        EXPECT_DOUBLE_EQ(got[m].value, want[m].value) << uncached.suites[s].name << "." << want[m].name;
      }
    }
  }
}

TEST_F(GateOnFixture, NeighbourhoodLeavesOutSubjectsEditedInTheRun) {
  nlohmann::json cases = nlohmann::json::parse(std::ifstream(scratch_ / "requests.json"));
  std::vector<std::string> subjects;
  for (const auto& c : cases) subjects.push_back(c["requested_rewrite"]["subject"].get<std::string>());
  const auto rewrite_prompt = [&](size_t j) {
    std::string p = cases[j]["requested_rewrite"]["prompt"].get<std::string>();
    return p.replace(p.find("{}"), 2, subjects[j]);
  };
  for (size_t j = 1; j <= 3; ++j) cases[0]["neighborhood_prompts"].push_back(rewrite_prompt(j));
  int64_t total = 0, expected = 0;
  for (const auto& c : cases) {
    for (const auto& p : c["neighborhood_prompts"]) {
      ++total;
      expected += std::any_of(subjects.begin(), subjects.end(), [&](const auto& s) { return names(p.get<std::string>(), s); });
    }
  }
  ASSERT_GE(expected, 3);
  std::ofstream(scratch_ / "co_edited.json") << cases.dump();
  auto c = config(fixture_dir());
  c.requests = scratch_ / "co_edited.json";
  const auto report = editgate::suites::run_gate(c);
  const auto& fp = suite(report, "FactPreservation");
  EXPECT_EQ(metric(fp, "neighborhood_left_out_edited").value, static_cast<double>(expected));
  EXPECT_EQ(metric(fp, "neighborhood_counterfact_success").n, total - expected);
}

// At 100 % the truncated chain is the whole chain, so the forced answer is the
// full chain's answer by construction (it read 0.86 when the prompt was rebuilt
// from decoded text). Checked on the fixture and on the damaged copy, whose
// chains differ from what the fixture was trained on.
TEST_F(GateOnFixture, EarlyAnsweringAtTheWholeChainAgreesWithTheFullChain) {
  nlohmann::json cot = nlohmann::json::parse(std::ifstream(fixture_dir() / "requests" / "cot.json"));
  cot["items"].erase(cot["items"].begin() + 60, cot["items"].end());
  std::ofstream(scratch_ / "cot60.json") << cot.dump();
  for (const auto& edited : {fixture_dir(), scratch_ / "damaged"}) {
    auto c = config(edited);
    c.cot = scratch_ / "cot60.json";
    c.suites = {"CoTTruncation"};
    const auto report = editgate::suites::run_gate(c);
    const auto& s = suite(report, "CoTTruncation");
    const auto& at100 = metric(s, "early_answer_agreement_100");
    ASSERT_GT(at100.n, 0) << edited;
    EXPECT_EQ(at100.value, 1.0) << edited << ": n=" << at100.n;
  }
}

// Latent 2-hop vs CoT: only chains whose first hop the run edits count (the
// fixture's ten cases edit lives_in and works_for of some subjects, the first
// hops of the home_country and employer_city chains). Unedited, nothing moves,
// so both answers stay put alike on every counted chain.
TEST_F(GateOnFixture, LatentVsCotCountsOnlyChainsWhoseFirstHopIsEdited) {
  const auto cases = editgate::suites::load_requests(scratch_ / "requests.json");
  nlohmann::json cot = nlohmann::json::parse(std::ifstream(fixture_dir() / "requests" / "cot.json"));
  nlohmann::json kept = nlohmann::json::array();
  int64_t first_hop = 0;  // by the data's own chains
  for (const auto& item : cot["items"]) {
    for (const auto& e : cases.edits) {
      if (item["subject"] != e.subject) continue;
      kept.push_back(item);
      first_hop += names(item["steps"][0].get<std::string>(), e.target_true);
      break;
    }
  }
  ASSERT_GT(first_hop, 0);
  ASSERT_GT(static_cast<int64_t>(kept.size()), first_hop) << "no chain about an edited subject with another first hop";
  cot["items"] = kept;
  std::ofstream(scratch_ / "cot_edited.json") << cot.dump();
  auto c = config(fixture_dir());
  c.cot = scratch_ / "cot_edited.json";
  c.suites = {"CoTTruncation"};
  const auto report = editgate::suites::run_gate(c);
  const auto& s = suite(report, "CoTTruncation");
  const auto& alike = metric(s, "latent_cot_consistency");
  // The base model's chain decides the first hop; it may state another bridge than the data.
  EXPECT_GT(alike.n, 0);
  EXPECT_LE(alike.n, static_cast<int64_t>(kept.size()));
  EXPECT_EQ(alike.value, 1.0);
  EXPECT_EQ(metric(s, "cot_answer_moved").value, 0.0);
  EXPECT_EQ(metric(s, "latent_answer_moved").value, 0.0);
  std::cout << "first-hop chains: " << alike.n << " counted, " << first_hop << " by the data's chains, " << kept.size()
            << " about edited subjects\n";
}

// A copy of the fixture with the same weights and another tokenizer. The first
// is what transformers' save_pretrained of the fixture wrote before the
// fixture carried BOS in its post_processor: no BOS rule at all. editgate used
// to report it as lost facts (unrelated_unchanged 0.598); it must name it.
TEST_F(GateOnFixture, ChangedTokenizerFailsAuditNamingTheDifference) {
  const auto copy_with = [&](const std::string& name, const auto& change) {
    const fs::path dir = scratch_ / name;
    fs::create_directories(dir);
    for (const char* f : {"config.json", "model.safetensors", "tokenizer_config.json"}) {
      fs::copy_file(fixture_dir() / f, dir / f, fs::copy_options::overwrite_existing);
    }
    auto tok = nlohmann::ordered_json::parse(std::ifstream(fixture_dir() / "tokenizer.json"));
    change(tok);
    std::ofstream(dir / "tokenizer.json") << tok.dump(2);
    return dir;
  };
  const fs::path no_bos = copy_with("no_bos", [](auto& tok) { tok["post_processor"] = nullptr; });
  const fs::path swapped = copy_with("swapped", [](auto& tok) {  // two words trade ids
    auto& vocab = tok["model"]["vocab"];
    const auto dan = vocab["dan"], sel = vocab["sel"];
    vocab["dan"] = sel;
    vocab["sel"] = dan;
  });
  for (const auto& [dir, needle] : {std::pair{no_bos, std::string("tokenizer differs: BOS/EOS rule: a prompt gets [0] before")},
                                    std::pair{swapped, std::string("tokenizer differs: vocabulary: id ")}}) {
    const auto report = editgate::suites::run_gate(config(dir));  // selects FactPreservation only
    EXPECT_FALSE(report.passed) << dir;
    const auto& audit = suite(report, "Audit");
    ASSERT_FALSE(audit.skipped) << audit.skip_reason;
    ASSERT_FALSE(audit.cases.empty());
    EXPECT_EQ(audit.cases[0].name, "tokenizer");
    EXPECT_FALSE(audit.cases[0].passed);
    EXPECT_EQ(audit.cases[0].message.rfind(needle, 0), 0u) << audit.cases[0].message;
    const auto& facts = suite(report, "FactPreservation");
    EXPECT_TRUE(facts.skipped) << "the symptom is reported instead of the cause";
    ASSERT_EQ(report.gates.size(), 1u);
    EXPECT_EQ(report.gates[0].suite, "Audit");
    EXPECT_FALSE(report.gates[0].passed);
  }
}

TEST(CaseSet, DetectsEveryFixtureFormat) {
  const auto dir = fixture_dir() / "requests";
  EXPECT_EQ(editgate::suites::load_requests(dir / "edits.counterfact.json").format, "counterfact");
  const auto ripple = editgate::suites::load_requests(dir / "ripple.json");
  EXPECT_EQ(ripple.format, "rippleedits");
  EXPECT_FALSE(ripple.ripple.empty());
  EXPECT_GE(editgate::suites::load_preservation(dir / "preservation.json").size(), 1000u);
}

TEST(CaseSet, RejectsUnknownRecordsNamingTheKeys) {
  const fs::path p = fs::temp_directory_path() / "editgate_bad_requests.json";
  std::ofstream(p) << R"([{"question": "x"}])";
  try {
    editgate::suites::load_requests(p);
    FAIL();
  } catch (const editgate::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("record 0"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("question"), std::string::npos);
  }
}

TEST(CaseSet, SanitisesNames) {
  EXPECT_EQ(editgate::suites::sanitize_case_name("case 12/a"), "case_12_a");
  EXPECT_EQ(editgate::suites::sanitize_case_name("7"), "case_7");
}

}  // namespace
