// SentencePieceTokenizer on a model trained here with libsentencepiece's
// trainer (its own TU: sentencepiece headers clash with libabsl's).
#include "harness/sentencepiece_tokenizer.h"

#include <gtest/gtest.h>
#include <sentencepiece_trainer.h>
#include <unistd.h>

#include <fstream>

#include "harness/input_error.h"
#include "harness/remove_tree.h"

namespace fs = std::filesystem;
using namespace editgate::harness;

namespace {

class SentencePieceModel : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("editgate_spm_" + std::to_string(::getpid()));
    editgate::harness::remove_tree(dir_);
    fs::create_directories(dir_);
    std::ofstream corpus(dir_ / "corpus.txt");
    for (int i = 0; i < 50; ++i) {
      corpus << "the capital of france is paris\nhello world from the tokenizer test\n"
             << "numbers " << i << " and " << i * 7 << " appear here\n";
    }
    corpus.close();
    const std::string args = "--input=" + (dir_ / "corpus.txt").string() + " --model_prefix=" +
                             (dir_ / "tokenizer").string() +
                             " --vocab_size=80 --model_type=bpe --minloglevel=2";
    status_ = sentencepiece::SentencePieceTrainer::Train(args).ToString();
  }
  void SetUp() override { ASSERT_EQ(status_, "OK") << "training the test model failed"; }

  static inline fs::path dir_;       // holds tokenizer.model
  static inline std::string status_;  // the trainer's status
};

}  // namespace

TEST_F(SentencePieceModel, EncodesDecodesAndReportsSpecials) {
  const auto tok = load_sentencepiece(dir_ / "tokenizer.model");
  EXPECT_EQ(tok->kind(), "sentencepiece");
  EXPECT_EQ(tok->vocab_size(), 80);
  const auto ids = tok->encode("hello world");
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(tok->decode(ids), "hello world");
  EXPECT_EQ(tok->unk_id(), 0);
  EXPECT_EQ(tok->bos_id(), 1);
  EXPECT_EQ(tok->eos_id(), 2);
  EXPECT_EQ(tok->pad_id(), std::nullopt);
  EXPECT_EQ(tok->token_to_id(tok->id_to_token(ids[0])), ids[0]);
  EXPECT_EQ(tok->token_to_id("no-such-piece"), std::nullopt);
  EXPECT_EQ(tok->id_to_token(-1), "");
  EXPECT_EQ(tok->decode({ids[0], 100000, -5}), tok->decode({ids[0]}));  // unknown ids skipped
}

TEST_F(SentencePieceModel, LoadTokenizerFallsBackToTokenizerModel) {
  const fs::path dir = dir_ / "checkpoint";
  fs::create_directories(dir);
  fs::copy_file(dir_ / "tokenizer.model", dir / "tokenizer.model", fs::copy_options::overwrite_existing);
  std::ofstream(dir / "special_tokens_map.json") << R"({"pad_token": "</s>"})";
  const auto tok = load_tokenizer(dir);
  EXPECT_EQ(tok->kind(), "sentencepiece");
  EXPECT_EQ(tok->pad_id(), 2);
}

TEST_F(SentencePieceModel, RejectsGarbageAndMissingFiles) {
  const fs::path bad = dir_ / "garbage.model";
  std::ofstream(bad) << "this is not a protobuf \xff\xff\xff\xff";
  try {
    load_sentencepiece(bad);
    ADD_FAILURE() << "accepted";
  } catch (const editgate::InputError& e) {
    EXPECT_EQ(e.path(), bad.string());
    EXPECT_EQ(e.field(), "ModelProto");
  }
  std::ofstream(dir_ / "empty.model").close();
  EXPECT_THROW(load_sentencepiece(dir_ / "empty.model"), editgate::InputError);
  EXPECT_THROW(load_sentencepiece(dir_ / "missing.model"), editgate::InputError);
}
