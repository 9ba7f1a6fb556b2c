// Cutting a generated chain of thought into steps in token ids (suites/cot_chain.h),
// with the fixture's word-level tokenizer, whose decode() drops the space before
// the first token: the early-answering prompts must be the generated ids, never
// text that re-encodes to something else. Also the latent-vs-CoT comparison and
// whole-word subject matching.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>

#include "harness/tokenizer.h"
#include "suites/cot_chain.h"
#include "suites/subject_match.h"

namespace {

namespace fs = std::filesystem;
using editgate::suites::AnswerChange;

fs::path fixture_dir() { return fs::path(EDITGATE_SOURCE_DIR) / "fixtures" / "default"; }

std::vector<int64_t> concat(std::vector<int64_t> a, const std::vector<int64_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

class CotChain : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tokenizer_ = editgate::harness::load_tokenizer(fixture_dir()).release();
    cot_ = new nlohmann::json(nlohmann::json::parse(std::ifstream(fixture_dir() / "requests" / "cot.json")));
  }
  static void TearDownTestSuite() {
    delete tokenizer_;
    delete cot_;
  }
  static const editgate::harness::Tokenizer* tokenizer_;
  static const nlohmann::json* cot_;
};
const editgate::harness::Tokenizer* CotChain::tokenizer_ = nullptr;
const nlohmann::json* CotChain::cot_ = nullptr;

// What the model generates after a question is the rest of the trained line (the
// chain, "So the answer is", the answer) and whatever follows; the cut must find
// the steps and the answer, and the prompt kept at every cut must be the question's
// ids followed by exactly the generated ids, with no unknown word anywhere (the old
// text rebuild glued "A :" to the first step: "A :the", an unknown word).
TEST_F(CotChain, TruncatedPromptsAreTheGeneratedIds) {
  const std::string prefix = (*cot_)["answer_prefix"];
  const auto unk = tokenizer_->token_to_id("<unk>");
  ASSERT_TRUE(unk.has_value());
  for (size_t i = 0; i < 20; ++i) {
    const auto& item = (*cot_)["items"][i];
    const std::string question = item["question"], full = item["full_text"];
    ASSERT_EQ(full.rfind(question, 0), 0u);
    const auto q = tokenizer_->encode(question);
    const auto generated = tokenizer_->encode(full.substr(question.size()) + " . Q : where is");
    const auto chain = editgate::suites::cut_chain(*tokenizer_, generated, prefix);
    ASSERT_TRUE(chain.reached_answer()) << full;
    EXPECT_EQ(chain.answer, item["answer"].get<std::string>());
    EXPECT_EQ(chain.answer_tokens, 1);
    ASSERT_EQ(chain.steps.size(), item["steps"].size()) << full;
    for (size_t k = 0; k < chain.steps.size(); ++k) {
      EXPECT_EQ(tokenizer_->decode(chain.steps[k]), item["steps"][k].get<std::string>());
    }
    EXPECT_EQ(tokenizer_->decode(chain.answer_prefix), prefix);
    // The whole chain: the generated ids up to the answer, nothing else.
    const auto whole = editgate::suites::truncated_prompt(q, chain, chain.steps.size());
    const auto answer_at = whole.size() - q.size();
    EXPECT_EQ(whole, concat(q, std::vector<int64_t>(generated.begin(), generated.begin() + static_cast<std::ptrdiff_t>(answer_at))));
    EXPECT_EQ(generated[answer_at], tokenizer_->encode(item["answer"].get<std::string>()).front());
    for (size_t keep = 0; keep <= chain.steps.size(); ++keep) {
      const auto ids = editgate::suites::truncated_prompt(q, chain, keep);
      EXPECT_EQ(std::count(ids.begin(), ids.end(), *unk), 0) << tokenizer_->decode(ids);
      std::string text = question;
      for (size_t k = 0; k < keep; ++k) text += " " + item["steps"][k].get<std::string>();
      EXPECT_EQ(ids, tokenizer_->encode(text + " " + prefix)) << "keep " << keep;
    }
  }
}

TEST_F(CotChain, NoAnswerPrefixMeansNoAnswer) {
  const auto generated = tokenizer_->encode("the person works for . . . the person works for");
  const auto chain = editgate::suites::cut_chain(*tokenizer_, generated, (*cot_)["answer_prefix"]);
  EXPECT_FALSE(chain.reached_answer());
  EXPECT_TRUE(chain.answer.empty());
}

// A step left without its full stop before the prefix is still part of the chain:
// the whole-chain prompt must hold every generated id.
TEST_F(CotChain, UnfinishedLastStepStaysInTheChain) {
  const std::string prefix = (*cot_)["answer_prefix"];
  const auto generated = tokenizer_->encode("the person works for . the person works for " + prefix + " .");
  const auto chain = editgate::suites::cut_chain(*tokenizer_, generated, prefix);
  ASSERT_TRUE(chain.reached_answer());
  ASSERT_EQ(chain.steps.size(), 2u);
  EXPECT_EQ(tokenizer_->decode(chain.steps[1]), "the person works for");
  EXPECT_EQ(chain.answer, "");
}

TEST(LatentVsCot, MovedAlikeOnlyWhenBothStayOrBothMoveToTheSameAnswer) {
  using editgate::suites::moved_alike;
  EXPECT_TRUE(moved_alike(AnswerChange{"a", "a"}, AnswerChange{"b", "b"}));   // neither moved
  EXPECT_TRUE(moved_alike(AnswerChange{"a", "c"}, AnswerChange{"b", "c"}));   // both to c
  EXPECT_FALSE(moved_alike(AnswerChange{"a", "c"}, AnswerChange{"a", "d"}));  // both moved, apart
  EXPECT_FALSE(moved_alike(AnswerChange{"a", "c"}, AnswerChange{"a", "a"}));  // only the chain
  EXPECT_FALSE(moved_alike(AnswerChange{"a", "a"}, AnswerChange{"a", "c"}));  // only the direct answer
}

TEST(SubjectMatch, MatchesWholeWordsOnly) {
  using editgate::suites::contains_words;
  EXPECT_TRUE(contains_words("where is ris re based", "ris re"));
  EXPECT_TRUE(contains_words("ris re lives in", "ris re"));
  EXPECT_TRUE(contains_words("the home of ris re", "ris re"));
  EXPECT_FALSE(contains_words("where is ris ren based", "ris re"));
  EXPECT_FALSE(contains_words("where is bris re based", "ris re"));
  EXPECT_TRUE(contains_words("bris re and ris re", "ris re"));  // a later occurrence counts
  EXPECT_FALSE(contains_words("anything", ""));
}

// The hashed lookup finds what contains_words finds, for names of several lengths.
TEST(SubjectMatch, SubjectNamesAgreesWithContainsWords) {
  const std::vector<std::string> names = {"ris re", "tol na lis", "ab", "", "ris re"};
  const editgate::suites::SubjectNames set(names);
  EXPECT_TRUE(set.contains("ab"));
  EXPECT_FALSE(set.contains(""));
  for (const std::string text : {"where is ris re based", "where is ris ren based", "tol na lis lives in", "tol na li",
                                 "the home of ab", "abc is a", "x.ab.y", "", "ris re."}) {
    bool any = false;
    for (const auto& n : names) any = any || editgate::suites::contains_words(text, n);
    EXPECT_EQ(set.named_in(text), any) << "'" << text << "'";
  }
}

}  // namespace
