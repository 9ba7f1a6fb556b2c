// The attention-sink warning of key-value edits (editors/key_position_warnings.h):
// raised exactly when the subject's last token is position 0 of a model that
// adds no BOS, and recorded in the manifest (the report's side:
// tests/reports/report_format_test.cpp).
#include <gtest/gtest.h>

#include "editors/edit_manifest.h"
#include "editors/key_position_warnings.h"
#include "harness/text_model.h"
#include "tests/editors/random_text_model.h"
#include "tests/harness/tiny_checkpoint.h"

namespace editgate::testing {
namespace {

editors::EditRequest request(const std::string& id, const std::string& prompt, const std::string& subject) {
  editors::EditRequest r;
  r.case_id = id;
  r.prompt = prompt;
  r.subject = subject;
  r.target_new = "north";
  return r;
}

const std::vector<editors::EditRequest> kRequests = {
    request("first", "{} was born in", "ka"),          // one-token subject at position 0
    request("two_tokens", "{} was born in", "ka lo"),  // its last token is position 1
    request("inside", "people say {} lives in", "mi"),
};

TEST(KeyPositionWarnings, NamesOnlyASubjectEndingAtPositionZeroOfAModelWithoutBos) {
  TempDir dir;
  write_random_text_model(dir / "gpt2", "gpt2");
  const auto tm = harness::TextModel::load(dir / "gpt2", harness::LoadOptions{"cpu"});
  ASSERT_FALSE(tm.adds_bos());
  const auto warnings = editors::key_position_warnings(tm, kRequests);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("case first:"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("adds no BOS"), std::string::npos) << warnings[0];
}

TEST(KeyPositionWarnings, NoneWhenTheModelPrependsBos) {
  TempDir dir;
  write_random_text_model(dir / "llama", "llama");
  const auto tm = harness::TextModel::load(dir / "llama", harness::LoadOptions{"cpu"});
  ASSERT_TRUE(tm.adds_bos());
  EXPECT_TRUE(editors::key_position_warnings(tm, kRequests).empty());
}

TEST(KeyPositionWarnings, RoundTripThroughTheManifest) {
  editors::EditManifest m;
  m.method = "rome";
  m.warnings = {"case 7: a warning"};
  const auto j = editors::to_json(m);
  ASSERT_EQ(j.at("warnings"), nlohmann::ordered_json::array({"case 7: a warning"}));
  EXPECT_EQ(editors::parse_manifest(nlohmann::json::parse(j.dump()), "m.json").warnings, m.warnings);
}

}  // namespace
}  // namespace editgate::testing
