// The concept dataset format of editors/concept_dataset.h: a valid file loads;
// each validation branch is an InputError naming the field; record positions
// map word spans to the subject's last token, with and without a BOS token.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "editors/concept_dataset.h"
#include "harness/input_error.h"
#include "harness/text_model.h"
#include "tests/editors/random_text_model.h"
#include "tests/harness/tiny_checkpoint.h"

namespace editgate::testing {
namespace {

using nlohmann::json;

void expect_error(const json& j, const std::string& field_part, const std::string& message_part = {}) {
  try {
    editors::ConceptDataset::parse(j, "ds.json");
    FAIL() << "accepted; expected an error at " << field_part;
  } catch (const InputError& e) {
    EXPECT_NE(e.field().find(field_part), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(message_part), std::string::npos) << e.what();
    EXPECT_EQ(e.path(), "ds.json");
  }
}

json valid() { return make_concept_dataset(2, 2); }

TEST(ConceptDataset, ParsesTheDocumentedFormat) {
  const auto ds = editors::ConceptDataset::parse(valid(), "ds.json");
  EXPECT_EQ(ds.num_classes(), 2);
  EXPECT_EQ(ds.concept_name, "synthetic");
  EXPECT_EQ(ds.fit.size() + ds.probe_train.size() + ds.probe_test.size(), 128u);
  const auto& r = ds.fit.front();
  EXPECT_TRUE(r.subject_span.has_value());
  EXPECT_FALSE(r.subject_id.empty());
  EXPECT_EQ(r.relation, "born_in");
  EXPECT_EQ(r.field, "splits.fit[0]");
}

TEST(ConceptDataset, LoadsFromAFileAndRejectsBadJson) {
  TempDir dir;
  std::ofstream(dir / "ok.json") << valid().dump();
  EXPECT_EQ(editors::ConceptDataset::load(dir / "ok.json").num_classes(), 2);
  std::ofstream(dir / "bad.json") << "{\"format\": ";
  EXPECT_THROW(editors::ConceptDataset::load(dir / "bad.json"), InputError);
  EXPECT_THROW(editors::ConceptDataset::load(dir / "missing.json"), InputError);
}

TEST(ConceptDataset, RejectsEachMalformedField) {
  json j = valid();
  j["format"] = "something.else";
  expect_error(j, "format");
  j = valid(), j["version"] = 2, expect_error(j, "version");
  j = valid(), j.erase("classes"), expect_error(j, "classes", "missing");
  j = valid(), j["classes"] = {"only"}, expect_error(j, "classes", "at least 2");
  j = valid(), j["classes"][1] = 3, expect_error(j, "classes[1]", "a string");
  j = valid(), j["splits"].erase("probe_test"), expect_error(j, "splits.probe_test", "missing");
  j = valid(), j["splits"]["fit"] = json::array(), expect_error(j, "splits.fit", "non-empty");
  j = valid(), j["splits"]["fit"][0] = 5, expect_error(j, "splits.fit[0]", "record object");
  j = valid(), j["splits"]["fit"][0].erase("prompt"), expect_error(j, "splits.fit[0].prompt");
  j = valid(), j["splits"]["fit"][0]["prompt"] = "", expect_error(j, "splits.fit[0].prompt", "non-empty");
  j = valid(), j["splits"]["fit"][0]["label"] = 2, expect_error(j, "splits.fit[0].label", "[0, 2)");
  j = valid(), j["splits"]["fit"][0]["label"] = "a", expect_error(j, "splits.fit[0].label", "integer");
  j = valid(), j["splits"]["fit"][0]["subject_span"] = {1}, expect_error(j, "subject_span");
  j = valid(), j["splits"]["fit"][0]["subject_span"] = {3, 3}, expect_error(j, "subject_span", "start < end");
  j = valid(), j["splits"]["fit"][0]["subject_span"] = {0, 99}, expect_error(j, "subject_span", "words");
  j = valid(), j["splits"]["fit"][0].erase("subject_span"), expect_error(j, "splits.fit[0]", "'position'");
  j = valid(), j["splits"]["fit"][0]["position"] = -1, expect_error(j, "position", ">= 0");
  j = valid(), j["splits"]["fit"][0]["subject_id"] = 1.5, expect_error(j, "subject_id", "string or an integer");
  j = valid(), j["splits"]["fit"][0]["object"] = 7, expect_error(j, "object", "a string");
}

// A record asks for the concept when its object is a class, or when its relation
// is one the dataset names as the concept's (a region concept's born_in facts).
TEST(ConceptDataset, ConceptRelationsMarkRecordsThatAskForTheConcept) {
  json j = valid();
  auto ds = editors::ConceptDataset::parse(j, "ds.json");
  editors::ConceptRecord r;
  r.relation = "born_in";
  r.object = "somewhere";
  EXPECT_FALSE(ds.asks_for_concept(r));
  r.object = ds.classes.front();
  EXPECT_TRUE(ds.asks_for_concept(r));
  j["concept_relations"] = {"born_in"};
  ds = editors::ConceptDataset::parse(j, "ds.json");
  r.object = "somewhere";
  EXPECT_TRUE(ds.asks_for_concept(r));
  r.relation = "lives_in";
  EXPECT_FALSE(ds.asks_for_concept(r));
  j["concept_relations"] = "born_in", expect_error(j, "concept_relations", "a list");
  j["concept_relations"] = {3}, expect_error(j, "concept_relations[0]", "string");
}

TEST(ConceptDataset, RejectsASubjectInTwoSplits) {
  json j = valid();
  j["splits"]["probe_test"][0]["subject_id"] = j["splits"]["fit"][0]["subject_id"];
  expect_error(j, "subject_id", "in both fit and probe_test");
}

class RecordPositions : public ::testing::TestWithParam<std::string> {};

TEST_P(RecordPositions, SpanMapsToTheSubjectsLastToken) {
  TempDir dir;
  write_random_text_model(dir / "m", GetParam());
  const auto tm = harness::TextModel::load(dir / "m", harness::LoadOptions{"cpu"});
  const int64_t bos = tm.adds_bos() ? 1 : 0;
  EXPECT_EQ(tm.adds_bos(), GetParam() == "llama");
  editors::ConceptRecord r;
  r.prompt = "people say  ka lo was born in the";  // two spaces: the span counts words, not spaces
  r.subject_span = std::make_pair(int64_t{2}, int64_t{4});
  r.field = "splits.fit[0]";
  EXPECT_EQ(editors::record_position(tm, r, "ds.json"), 3 + bos);
  r.position = 1;
  EXPECT_EQ(editors::record_position(tm, r, "ds.json"), 1);
  r.position = 99;
  EXPECT_THROW(editors::record_position(tm, r, "ds.json"), InputError);
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, RecordPositions, ::testing::Values("gpt2", "llama"),
                         [](const auto& info) { return info.param == "gpt2" ? "NoBos" : "Bos"; });

}  // namespace
}  // namespace editgate::testing
