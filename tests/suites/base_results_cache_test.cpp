// BaseResultsCache on its own: answers survive a save and a reload under the
// same key, another key reads none of them, and a file whose answers no
// longer match their checksum is ignored (and said so), never used.
#include "suites/base_results_cache.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <unistd.h>

#include "harness/remove_tree.h"

namespace {

namespace fs = std::filesystem;
using editgate::suites::BaseResultsCache;

class BaseResultsCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("editgate_base_cache_test_" + std::to_string(::getpid()));
    editgate::harness::remove_tree(dir_);
  }
  void TearDown() override { editgate::harness::remove_tree(dir_); }
  fs::path dir_;
  const nlohmann::ordered_json key_ = {{"base_weights_sha256", "ab12"}, {"device_type", "cpu"}};
  const nlohmann::json question_ = {{"q", "top1_next"}, {"prompts", {{1, 2, 3}, {4}}}};
};

TEST_F(BaseResultsCacheTest, AnswersSurviveSaveAndReloadUnderTheSameKeyOnly) {
  {
    BaseResultsCache cache(dir_, key_);
    EXPECT_EQ(cache.find(question_), nullptr);
    cache.store(question_, {7, 9});
    cache.save();
  }
  BaseResultsCache again(dir_, key_);
  const auto* answer = again.find(question_);
  ASSERT_NE(answer, nullptr);
  EXPECT_EQ(*answer, nlohmann::json({7, 9}));
  EXPECT_EQ(again.find({{"q", "top1_next"}, {"prompts", {{1, 2, 4}}}}), nullptr) << "another question";
  EXPECT_EQ(again.hits(), 1);
  EXPECT_EQ(again.misses(), 1);
  auto other_key = key_;
  other_key["base_weights_sha256"] = "cd34";
  BaseResultsCache other(dir_, other_key);
  EXPECT_NE(other.file(), again.file());
  EXPECT_EQ(other.find(question_), nullptr);
}

TEST_F(BaseResultsCacheTest, AFileFailingItsChecksumIsIgnored) {
  fs::path file;
  {
    BaseResultsCache cache(dir_, key_);
    cache.store(question_, {7, 9});
    cache.save();
    file = cache.file();
  }
  std::stringstream text;
  text << std::ifstream(file).rdbuf();
  std::string s = text.str();
  const auto at = s.find("[7,9]");
  ASSERT_NE(at, std::string::npos) << s;
  s.replace(at, 5, "[7,8]");  // an answer changed behind the checksum's back
  std::ofstream(file, std::ios::trunc) << s;
  ::testing::internal::CaptureStderr();
  BaseResultsCache cache(dir_, key_);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(cache.find(question_), nullptr);
  EXPECT_NE(err.find("checksum mismatch"), std::string::npos) << err;
}

TEST_F(BaseResultsCacheTest, NothingStoredWritesNothing) {
  BaseResultsCache cache(dir_, key_);
  EXPECT_EQ(cache.find(question_), nullptr);
  cache.save();
  EXPECT_FALSE(fs::exists(cache.file()));
}

}  // namespace
