// CounterFact request loading: the normalised record, and one test per
// rejection branch (each message names the file, the case and the field).

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "editors/edit_request.h"
#include "editors/request_formats.h"
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

// The one loader of every command (issue 17): each of the five formats is
// detected and normalised to the same edit; an unknown record names them all.
TEST(RequestFormats, EveryFormatBecomesTheSameEdit) {
  const json rewrite = {{"prompt", "{} is the capital of"}, {"subject", "Paris"}, {"target_new", {{"str", "Italy"}}},
                        {"target_true", {{"str", "France"}}}};
  const json counterfact = json::array({{{"case_id", 0}, {"requested_rewrite", rewrite}}});
  const json zsre = json::array({{{"subject", "Paris"}, {"src", "Paris is the capital of"}, {"alt", "Italy"},
                                  {"answers", {"France"}}, {"rephrase", "Paris is the capital city of"}}});
  const json easyedit = json::array({{{"subject", "Paris"}, {"prompt", "Paris is the capital of"},
                                      {"target_new", "Italy"}, {"ground_truth", "France"}}});
  const json mquake = json::array({{{"requested_rewrite", json::array({rewrite})}}});
  const json ripple = json::array({{{"edit", {{"subject", "Paris"}, {"target", "Italy"}, {"cloze", "{} is the capital of"},
                                              {"original_fact", {{"target", "France"}}}}},
                                    {"Relation_Specificity", json::array()}}});
  for (const auto& [doc, format] : std::vector<std::pair<json, std::string>>{
           {counterfact, "counterfact"}, {zsre, "zsre"}, {easyedit, "easyedit"}, {mquake, "mquake"}, {ripple, "rippleedits"}}) {
    const auto set = parse_edit_requests(doc, "req.json");
    EXPECT_EQ(set.format, format);
    ASSERT_EQ(set.edits.size(), 1u) << format;
    EXPECT_EQ(set.edits[0].subject, "Paris") << format;
    EXPECT_EQ(set.edits[0].filled_prompt(), "Paris is the capital of") << format;
    EXPECT_EQ(set.edits[0].target_new, "Italy") << format;
  }
  EXPECT_EQ(parse_edit_requests(zsre, "req.json").edits[0].paraphrase_prompts.size(), 1u);
  try {
    parse_edit_requests(json::array({{{"question", "?"}}}), "req.json");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("zsRE"), std::string::npos) << e.what();
    EXPECT_EQ(e.field(), "record 0");
  }
  try {
    parse_edit_requests(json::array({{{"subject", "Rome"}, {"src", "Paris is the capital of"}, {"alt", "Italy"}}}),
                        "req.json");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.field(), "record 0.src");
  }
}

// Preservation facts: the gate's form needs objects; `edit --sequential`
// (prompts_only) also takes facts without them, or a list of prompts.
TEST(RequestFormats, PreservationFactsWithAndWithoutObjects) {
  testing::TempDir dir;
  std::ofstream(dir / "facts.json") << json{{"facts", {{{"prompt", "Rome is in"}, {"object", "Italy"}}}}}.dump();
  std::ofstream(dir / "prompts.json") << json{"Rome is in", "Oslo is in"}.dump();
  std::ofstream(dir / "no_object.json") << json{{"facts", {{{"prompt", "Rome is in"}}}}}.dump();
  EXPECT_EQ(load_preservation(dir / "facts.json")[0].object, "Italy");
  EXPECT_EQ(load_preservation(dir / "facts.json", true)[0].prompt, "Rome is in");
  EXPECT_EQ(load_preservation(dir / "prompts.json", true).size(), 2u);
  EXPECT_EQ(load_preservation(dir / "no_object.json", true)[0].prompt, "Rome is in");
  EXPECT_THROW(load_preservation(dir / "prompts.json"), InputError);
  try {
    load_preservation(dir / "no_object.json");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.field(), "facts[0].object");
  }
  std::ofstream(dir / "bad.json") << json{{"facts", {3}}}.dump();
  EXPECT_THROW(load_preservation(dir / "bad.json", true), InputError);
}

}  // namespace
}  // namespace editgate::editors
