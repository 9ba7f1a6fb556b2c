// Byte-level BPE on GPT-2's real vocabulary (known ids, round trips of arbitrary
// bytes) and the conformance tests against HF `tokenizers`:
// TokenizerConformance.* run tests/conformance/tokenizer_reference.py with the
// project's .venv python and compare ids and decoded text with its output.
#include "harness/bpe_tokenizer.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>

#include "harness/wordlevel_tokenizer.h"
#include "harness/remove_tree.h"

namespace fs = std::filesystem;
using namespace editgate::harness;
using Ids = std::vector<int64_t>;

namespace {

// GPT-2's own vocab.json and merges.txt (openai/gpt-2, MIT), checked in as test data.
const fs::path kGpt2Dir = fs::path(EDITGATE_SOURCE_DIR) / "tests" / "data" / "gpt2-bpe";

// Texts that stress the pre-tokenizer and the byte mapping; all must round-trip.
std::vector<std::string> round_trip_texts() {
  return {"", " ", "Hello world, this is GPT-2!", "a  b   c\t\td\n\ne \r\n f     ",
          "\n\n\n", "   ", "日本語のテキストと中文文本，还有한국어。",
          "Emoji 😀👍🏽 👨\u200d👩\u200d👧 🇫🇷", "def f(x):\n    return x**2  # c\n",
          "I'm can't we'd THEY'LL", "1234567890 3.14 1e-9",
          "\xff\xfe invalid", "trunc\xc3", "\xed\xa0\x80 surrogate", "\xf4\x90\x80\x80 too big",
          "\xc0\xaf overlong", std::string("nul\0byte", 8), "\x80\x80\x80", " \xff \xfe\xfd ",
          "e\u0301\u0085\u00a0\u3000x"};
}

std::string random_bytes(std::mt19937& rng, bool utf8_only) {
  static const std::vector<std::string> pieces = {"a", "Z", " ", "  ", "\n", "\t", "'s", "9", "é",
                                                  "日", "😀", "\u200d", ",", "<|endoftext|>"};
  std::string s;
  const int n = std::uniform_int_distribution<int>(0, 24)(rng);
  for (int i = 0; i < n; ++i) {
    if (utf8_only || rng() % 2) {
      s += pieces[rng() % pieces.size()];
    } else {
      s += static_cast<char>(rng() % 256);
    }
  }
  return s;
}

class Gpt2Vocab : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (fs::exists(kGpt2Dir / "vocab.json")) {
      tok_ = load_gpt2_vocab_merges(kGpt2Dir / "vocab.json", kGpt2Dir / "merges.txt");
    }
  }
  void SetUp() override {
    ASSERT_TRUE(tok_) << "GPT-2 vocabulary not found at " << kGpt2Dir;
  }
  static inline std::shared_ptr<Tokenizer> tok_;  // loaded once per process
};

}  // namespace

TEST_F(Gpt2Vocab, EncodesKnownSentence) {
  const Ids expected{15496, 995, 11, 428, 318, 402, 11571, 12, 17, 0};
  EXPECT_EQ(tok_->encode("Hello world, this is GPT-2!"), expected);
  EXPECT_EQ(tok_->decode(expected), "Hello world, this is GPT-2!");
  EXPECT_EQ(tok_->vocab_size(), 50257);
  EXPECT_EQ(tok_->kind(), "bpe");
  EXPECT_EQ(tok_->id_to_token(995), "Ġworld");
}

TEST_F(Gpt2Vocab, EndOfTextIsBosEosAndAnAddedToken) {
  EXPECT_EQ(tok_->bos_id(), 50256);
  EXPECT_EQ(tok_->eos_id(), 50256);
  EXPECT_EQ(tok_->pad_id(), std::nullopt);
  EXPECT_EQ(tok_->encode("a<|endoftext|>b"), (Ids{64, 50256, 65}));
}

TEST_F(Gpt2Vocab, RoundTripsUnicodeWhitespaceCodeAndInvalidUtf8) {
  for (const auto& text : round_trip_texts()) {
    EXPECT_EQ(tok_->decode(tok_->encode(text)), text) << "text: " << text;
  }
}

TEST_F(Gpt2Vocab, RoundTripsRandomBytes) {
  std::mt19937 rng(1234);
  for (int i = 0; i < 3000; ++i) {
    const std::string text = random_bytes(rng, i % 3 == 0);
    const Ids ids = tok_->encode(text);
    ASSERT_EQ(tok_->decode(ids), text) << "case " << i;
    for (int64_t id : ids) ASSERT_TRUE(id >= 0 && id < tok_->vocab_size());
  }
}

// A byte-only vocabulary behind the Llama-3 regex, built directly: every byte
// string must survive, including ones the regex cannot match.
TEST(BpeTokenizer, Llama3RegexRoundTripsInvalidUtf8) {
  BpeConfig config;
  for (int b = 0; b < 256; ++b) config.vocab.emplace_back(bytes_to_unicode()[b], b);
  config.byte_level = true;
  Pipeline pipeline;
  pipeline.pre_tokenizer.emplace_back().regex = std::make_shared<const Regex>(kLlama3Pattern);
  pipeline.decoder.emplace().emplace_back().kind = DecoderStep::Kind::kByteLevel;
  const BpeTokenizer tok(std::move(config), std::move(pipeline));
  EXPECT_EQ(tok.pre_tokenize("Hello  world's 12345\n\n"),
            (std::vector<std::string>{"Hello", " ", " world", "'s", " ", "123", "45", "\n\n"}));
  for (const auto& text : round_trip_texts()) {
    const Ids ids = tok.encode(text);
    EXPECT_EQ(ids.size(), text.size());  // no merges: one id per byte
    EXPECT_EQ(tok.decode(ids), text);
  }
}

TEST(BpeTokenizer, RegexWidensWhitespaceLikeOniguruma) {
  const Regex re(R"(\s+|[^\s]+)");
  EXPECT_EQ(re.find_all("a\u0085b").size(), 3u);  // NEL is whitespace in HF's regexes
  EXPECT_EQ(re.find_all("a\xff b").size(), 3u);   // invalid byte: skipped, not an error
  EXPECT_THROW(Regex("(unclosed"), std::invalid_argument);
}

// ---- conformance against HF tokenizers ---------------------------------------

class TokenizerConformance : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const fs::path python = fs::path(EDITGATE_SOURCE_DIR) / ".venv" / "bin" / "python";
    const fs::path script =
        fs::path(EDITGATE_SOURCE_DIR) / "tests" / "conformance" / "tokenizer_reference.py";
    if (!fs::exists(python)) {
      skip_ = "no " + python.string() + " (run scripts/setup.sh to install the reference)";
      return;
    }
    if (!fs::exists(kGpt2Dir / "vocab.json")) {
      skip_ = "GPT-2 vocabulary not found at " + kGpt2Dir.string();
      return;
    }
    dir_ = fs::temp_directory_path() / ("editgate_tok_conformance_" + std::to_string(::getpid()));
    editgate::harness::remove_tree(dir_);
    fs::create_directories(dir_);
    std::ofstream(dir_ / "wordlevel.json")
        << wordlevel_tokenizer_json({"The", "capital", "of", "France", "is", "Paris", ".", "Hello",
                                     "world,", "this", "the", "city", "Rome", "and", "a", "ok"},
                                    "[UNK]", {"<|endoftext|>", "<pad>"});
    const std::string command = "'" + python.string() + "' '" + script.string() + "' --gpt2-dir '" +
                                kGpt2Dir.string() + "' --out '" + dir_.string() + "' --wordlevel '" +
                                (dir_ / "wordlevel.json").string() + "' > '" +
                                (dir_ / "log.txt").string() + "' 2>&1";
    if (std::system(command.c_str()) != 0) {
      std::ostringstream log;
      log << std::ifstream(dir_ / "log.txt").rdbuf();
      error_ = "reference script failed: " + command + "\n" + log.str();
      return;
    }
    expected_ = nlohmann::json::parse(std::ifstream(dir_ / "expected.json"));
  }
  static void TearDownTestSuite() {
    if (!dir_.empty()) editgate::harness::remove_tree(dir_);
  }
  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
    ASSERT_TRUE(error_.empty()) << error_;
  }

  static std::string file(const std::string& name) { return expected_["tokenizers"][name]["file"]; }

  // Same ids and the same decoded text as HF for every corpus text.
  static void expect_same_as_hf(const std::string& name, const Tokenizer& tok) {
    const auto& corpus = expected_["corpus"];
    const auto& ref = expected_["tokenizers"][name];
    EXPECT_EQ(tok.vocab_size(), ref["vocab_size"].get<int64_t>());
    int mismatches = 0;
    for (size_t i = 0; i < corpus.size(); ++i) {
      const std::string text = corpus[i];
      const Ids ids = tok.encode(text);
      const Ids want = ref["ids"][i];
      EXPECT_EQ(ids, want) << name << " text #" << i << ": " << text;
      EXPECT_EQ(tok.decode(want), ref["decoded"][i].get<std::string>()) << name << " text #" << i;
      mismatches += ids != want;
    }
    RecordProperty("mismatches", mismatches);
  }

  static inline fs::path dir_;  // where the script wrote its files
  static inline std::string skip_, error_;
  static inline nlohmann::json expected_;  // {"corpus": [...], "tokenizers": {name: {...}}}
};

TEST_F(TokenizerConformance, Gpt2VocabMergesMatchesHf) {
  expect_same_as_hf("gpt2", *load_gpt2_vocab_merges(kGpt2Dir / "vocab.json", kGpt2Dir / "merges.txt"));
}

TEST_F(TokenizerConformance, Gpt2TokenizerJsonMatchesHf) {
  const auto tok = load_tokenizer_json(file("gpt2"));
  expect_same_as_hf("gpt2", *tok);
  EXPECT_EQ(tok->eos_id(), 50256);
}

TEST_F(TokenizerConformance, Llama3SplitRegexMatchesHf) {
  const auto tok = load_tokenizer_json(file("llama3"));
  expect_same_as_hf("llama3", *tok);
  EXPECT_EQ(tok->bos_id(), tok->token_to_id("<|begin_of_text|>"));
}

TEST_F(TokenizerConformance, ByteFallbackBpeMatchesHf) {
  const auto tok = load_tokenizer_json(file("bytefallback"));
  expect_same_as_hf("bytefallback", *tok);
  EXPECT_EQ(tok->unk_id(), 0);
  EXPECT_EQ(tok->bos_id(), tok->token_to_id("<s>"));
}

TEST_F(TokenizerConformance, WhitespacePreTokenizerMatchesHf) {
  expect_same_as_hf("whitespace", *load_tokenizer_json(file("whitespace")));
}

TEST_F(TokenizerConformance, WordLevelJsonMatchesHf) {
  expect_same_as_hf("wordlevel", *load_tokenizer_json(file("wordlevel")));
}
