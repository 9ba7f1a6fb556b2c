// CounterFact request loading: the normalised record, and one test per
// rejection branch (each message names the file, the case and the field).

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "editors/edit_request.h"
#include "harness/input_error.h"
#include "tests/harness/tiny_checkpoint.h"

namespace editgate::editors {
namespace {

using nlohmann::json;

json good_record() {
  return json::parse(R"({"case_id": 7, "pararel_idx": 1,
    "requested_rewrite": {"prompt": "The mother tongue of {} is", "relation_id": "P103",
      "target_new": {"str": "English", "id": "Q1860"}, "target_true": {"str": "French", "id": "Q150"},
      "subject": "Danielle Darrieux"},
    "paraphrase_prompts": ["a b", "c d"], "neighborhood_prompts": ["n1", {"prompt": "n2", "target": "x"}],
    "attribute_prompts": [], "generation_prompts": ["g"]})");
}

// The error for `doc`, which must be rejected.
InputError rejection(const json& doc) {
  try {
    parse_counterfact_requests(doc, "req.json");
  } catch (const InputError& e) {
    return e;
  }
  ADD_FAILURE() << "accepted: " << doc.dump();
  return InputError("", "", "", "");
}

TEST(EditRequest, ParsesCounterFactRecord) {
  const auto reqs = parse_counterfact_requests(json::array({good_record()}), "req.json");
  ASSERT_EQ(reqs.size(), 1u);
  const auto& r = reqs[0];
  EXPECT_EQ(r.case_id, "7");
  EXPECT_EQ(r.subject, "Danielle Darrieux");
  EXPECT_EQ(r.target_new, "English");
  EXPECT_EQ(r.target_true, "French");
  EXPECT_EQ(r.relation_id, "P103");
  EXPECT_EQ(r.filled_prompt(), "The mother tongue of Danielle Darrieux is");
  EXPECT_EQ(r.filled_prompt().substr(0, r.subject_end()), "The mother tongue of Danielle Darrieux");
  EXPECT_EQ(r.paraphrase_prompts.size(), 2u);
  EXPECT_EQ(r.neighborhood_prompts, (std::vector<std::string>{"n1", "n2"}));
  EXPECT_EQ(with_leading_space(r.target_new), " English");
  EXPECT_EQ(with_leading_space(" English"), " English");
}

TEST(EditRequest, RoundTripsThroughJson) {
  const auto reqs = parse_counterfact_requests(json::array({good_record()}), "req.json");
  const auto again = parse_counterfact_requests(json::array({json(to_counterfact_json(reqs[0]))}), "m.json");
  EXPECT_EQ(again[0].filled_prompt(), reqs[0].filled_prompt());
  EXPECT_EQ(again[0].target_new, reqs[0].target_new);
  EXPECT_EQ(again[0].neighborhood_prompts, reqs[0].neighborhood_prompts);
}

TEST(EditRequest, RejectsPromptWithoutSlotNamingTheCase) {
  auto doc = good_record();
  doc["requested_rewrite"]["prompt"] = "The mother tongue of Danielle Darrieux is";
  const auto e = rejection(json::array({doc}));
  EXPECT_EQ(e.path(), "req.json");
  EXPECT_EQ(e.field(), "case_id 7: requested_rewrite.prompt");
  EXPECT_NE(e.hint().find("replace it with {}"), std::string::npos) << e.what();
}

TEST(EditRequest, RejectsSubjectNotInPrompt) {
  auto doc = good_record();
  doc["requested_rewrite"]["prompt"] = "The mother tongue of her is";
  const auto e = rejection(json::array({doc}));
  EXPECT_NE(e.hint().find("is not in the prompt"), std::string::npos) << e.what();
}

TEST(EditRequest, RejectsSlotTwice) {
  auto doc = good_record();
  doc["requested_rewrite"]["prompt"] = "{} and {} is";
  EXPECT_EQ(rejection(json::array({doc})).field(), "case_id 7: requested_rewrite.prompt");
}

TEST(EditRequest, RejectsEmptyTargetAndSubject) {
  auto doc = good_record();
  doc["requested_rewrite"]["target_new"]["str"] = " ";
  EXPECT_EQ(rejection(json::array({doc})).field(), "case_id 7: requested_rewrite.target_new.str");
  doc = good_record();
  doc["requested_rewrite"]["subject"] = "";
  EXPECT_EQ(rejection(json::array({doc})).field(), "case_id 7: requested_rewrite.subject");
}

TEST(EditRequest, RejectsWrongTypes) {
  auto doc = good_record();
  doc["requested_rewrite"]["target_new"] = 5;
  EXPECT_EQ(rejection(json::array({doc})).field(), "case_id 7: requested_rewrite.target_new");
  doc = good_record();
  doc["requested_rewrite"]["subject"] = json::array();
  EXPECT_EQ(rejection(json::array({doc})).got(), "array");
  doc = good_record();
  doc["paraphrase_prompts"] = "one";
  EXPECT_EQ(rejection(json::array({doc})).field(), "case_id 7: paraphrase_prompts");
  doc = good_record();
  doc["neighborhood_prompts"] = json::array({3});
  EXPECT_EQ(rejection(json::array({doc})).field(), "case_id 7: neighborhood_prompts[0]");
  doc = good_record();
  doc["case_id"] = 1.5;
  EXPECT_EQ(rejection(json::array({doc})).field(), "record 0: case_id");
  EXPECT_EQ(rejection(json(3)).path(), "req.json");
  EXPECT_EQ(rejection(json::array({3})).field(), "record 0: record");
}

TEST(EditRequest, RejectsMissingFieldsAndDuplicates) {
  auto doc = good_record();
  doc.erase("requested_rewrite");
  EXPECT_EQ(rejection(json::array({doc})).field(), "case_id 7: requested_rewrite");
  doc = good_record();
  doc["requested_rewrite"].erase("target_new");
  EXPECT_EQ(rejection(json::array({doc})).field(), "case_id 7: requested_rewrite.target_new");
  doc = good_record();
  doc.erase("case_id");
  EXPECT_EQ(rejection(json::array({doc})).field(), "record 0: case_id");
  EXPECT_NE(rejection(json::array({good_record(), good_record()})).got().find("second case_id 7"), std::string::npos);
  EXPECT_NE(rejection(json::array()).got().find("empty"), std::string::npos);
}

TEST(EditRequest, LoadRejectsBadFiles) {
  testing::TempDir dir;
  EXPECT_THROW(load_counterfact_requests(dir / "missing.json"), InputError);
  std::ofstream(dir / "bad.json") << "[{";
  try {
    load_counterfact_requests(dir / "bad.json");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.path(), (dir / "bad.json").string());
  }
  std::ofstream(dir / "ok.json") << json::array({good_record()}).dump();
  EXPECT_EQ(load_counterfact_requests(dir / "ok.json").size(), 1u);
}

}  // namespace
}  // namespace editgate::editors
