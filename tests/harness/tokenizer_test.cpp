// Tokenizers on hand-made vocabularies whose encodings are worked out by hand
// (BPE merges, byte fallback, unk, WordLevel, added and special tokens), the
// loader's dispatch, and one test per validation branch of the loader.
#include "harness/tokenizer.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "harness/input_error.h"
#include "harness/tokenizer_diff.h"
#include "harness/tokenizer_pipeline.h"
#include "harness/wordlevel_tokenizer.h"
#include "harness/remove_tree.h"

namespace fs = std::filesystem;
using editgate::InputError;
using namespace editgate::harness;
using Ids = std::vector<int64_t>;

namespace {

fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() /
                       ("editgate_tok_" + name + "_" + std::to_string(::getpid()));
  editgate::harness::remove_tree(dir);
  fs::create_directories(dir);
  return dir;
}

fs::path write(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// A BPE over characters: merges worked out by hand in the tests below.
std::string char_bpe_json(const std::string& merges, bool fuse_unk = false) {
  return R"({"added_tokens": [{"id": 10, "content": "<s>", "special": true}],
    "normalizer": null, "pre_tokenizer": {"type": "WhitespaceSplit"},
    "decoder": {"type": "Sequence", "decoders": [{"type": "ByteFallback"}, {"type": "Fuse"}]},
    "model": {"type": "BPE", "unk_token": "<unk>", "byte_fallback": true,
      "fuse_unk": )" + std::string(fuse_unk ? "true" : "false") + R"(,
      "vocab": {"<unk>": 0, "a": 1, "b": 2, "c": 3, "ab": 4, "bc": 5, "abc": 6,
                "<0xC3>": 7, "<0xA9>": 8, "<s>": 10},
      "merges": )" + merges + "}}";
}

// Byte-level BPE: ids 0..255 are the 256 byte symbols, then four merges.
std::string byte_level_json(bool ignore_merges = false) {
  nlohmann::json vocab;
  for (int b = 0; b < 256; ++b) vocab[bytes_to_unicode()[b]] = b;
  vocab["he"] = 256, vocab["ll"] = 257, vocab["hell"] = 258, vocab["Ġw"] = 259, vocab["hello"] = 260;
  nlohmann::json j = {
      {"added_tokens", {{{"id", 261}, {"content", "<|eot|>"}, {"special", true}},
                        {{"id", 262}, {"content", "<s>"}, {"special", true}}}},
      {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}}},
      {"decoder", {{"type", "ByteLevel"}}},
      {"post_processor", {{"type", "TemplateProcessing"},
                          {"single", {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                                      {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}}}},
      {"model", {{"type", "BPE"}, {"vocab", vocab}, {"ignore_merges", ignore_merges},
                 {"merges", {"h e", "l l", "he ll", "Ġ w"}}}}};
  return j.dump();
}

std::unique_ptr<Tokenizer> load_json_text(const std::string& name, const std::string& text) {
  return load_tokenizer_json(write(fresh_dir(name) / "tokenizer.json", text));
}

}  // namespace

TEST(BpeTokenizer, AppliesMergesByRankWithStringMerges) {
  const auto tok = load_json_text("string_merges", char_bpe_json(R"(["a b", "ab c", "b c"])"));
  EXPECT_EQ(tok->kind(), "bpe");
  EXPECT_EQ(tok->encode("abc"), (Ids{6}));     // a b -> ab, then ab c -> abc
  EXPECT_EQ(tok->encode("bcab"), (Ids{5, 4}));  // a b (rank 0) before b c (rank 2)
  EXPECT_EQ(tok->encode("ab c"), (Ids{4, 3}));  // WhitespaceSplit drops the space
}

TEST(BpeTokenizer, AcceptsArrayMergesLikeStringMerges) {
  const auto tok = load_json_text("array_merges", char_bpe_json(R"([["a","b"], ["ab","c"], ["b","c"]])"));
  EXPECT_EQ(tok->encode("abc bcab"), (Ids{6, 5, 4}));
}

TEST(BpeTokenizer, FallsBackToBytesThenUnk) {
  const auto tok = load_json_text("fallback", char_bpe_json(R"(["a b"])"));
  EXPECT_EQ(tok->encode("\xC3\xA9"), (Ids{7, 8}));  // é: both byte tokens exist
  EXPECT_EQ(tok->encode("\xC3\xB1"), (Ids{0}));     // ñ: <0xB1> missing -> unk
  EXPECT_EQ(tok->encode("zz"), (Ids{0, 0}));
  EXPECT_EQ(tok->encode("ab\xC3\xA9z"), (Ids{4, 7, 8, 0}));
  EXPECT_EQ(tok->decode({4, 7, 8}), "ab\xC3\xA9");  // ByteFallback + Fuse
  EXPECT_EQ(tok->unk_id(), 0);
}

TEST(BpeTokenizer, FusesConsecutiveUnknownsWhenAsked) {
  const auto tok = load_json_text("fuse", char_bpe_json(R"(["a b"])", /*fuse_unk=*/true));
  EXPECT_EQ(tok->encode("zzz"), (Ids{0}));
  EXPECT_EQ(tok->encode("zzabz"), (Ids{0, 4, 0}));
}

TEST(BpeTokenizer, ByteLevelMergesWorkedByHand) {
  const auto tok = load_json_text("byte_level", byte_level_json());
  // "hello" -> he l l o -> he ll o -> hell o; " world" -> Ġw o r l d.
  const Ids ids{258, 'o', 259, 'o', 'r', 'l', 'd'};
  EXPECT_EQ(tok->encode("hello world"), ids);
  EXPECT_EQ(tok->decode(ids), "hello world");
  EXPECT_EQ(tok->id_to_token(259), "Ġw");
  EXPECT_EQ(tok->token_to_id("Ġw"), 259);
  EXPECT_EQ(tok->token_to_id("nope"), std::nullopt);
  EXPECT_EQ(tok->id_to_token(99999), "");
  EXPECT_EQ(tok->vocab_size(), 263);
}

TEST(BpeTokenizer, IgnoreMergesEmitsWholeVocabularyWords) {
  EXPECT_EQ(load_json_text("merges", byte_level_json(false))->encode("hello"), (Ids{258, 'o'}));
  EXPECT_EQ(load_json_text("ignore", byte_level_json(true))->encode("hello"), (Ids{260}));
}

TEST(BpeTokenizer, MatchesAddedTokensBeforePreTokenizing) {
  const auto tok = load_json_text("added", byte_level_json());
  EXPECT_EQ(tok->encode("hi<|eot|>hi<s>"), (Ids{'h', 'i', 261, 'h', 'i', 262}));
  EXPECT_EQ(tok->decode({'h', 261, 262}), "h<|eot|><s>");
  EXPECT_EQ(tok->bos_id(), 262);  // from the TemplateProcessing post_processor
  EXPECT_EQ(tok->eos_id(), std::nullopt);
}

TEST(BpeTokenizer, EncodeIsThreadSafe) {
  const auto tok = load_json_text("threads", byte_level_json());
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const std::string text = "hello world " + std::to_string(i * 4 + t);
        if (tok->decode(tok->encode(text)) != text) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong, 0);
}

TEST(WordLevelTokenizer, JsonWriterGivesOneTokenPerSpaceSeparatedWord) {
  const std::string json =
      wordlevel_tokenizer_json({"<bos>", "the", "cat", "sat", "."}, "<unk>", {"<bos>", "<eos>"});
  const auto tok = load_json_text("wordlevel", json);
  EXPECT_EQ(tok->kind(), "wordlevel");
  EXPECT_EQ(tok->encode("the cat sat ."), (Ids{1, 2, 3, 4}));
  EXPECT_EQ(tok->encode("the  dog\tsat.<eos>"), (Ids{1, 5, 5, 6}));  // <unk> = 5, <eos> = 6
  EXPECT_EQ(tok->encode("<bos>the"), (Ids{0, 1}));                 // added tokens split first
  EXPECT_EQ(tok->decode({0, 1, 4, 6}), "<bos> the . <eos>");       // HF: join with spaces
  EXPECT_EQ(tok->unk_id(), 5);
  EXPECT_EQ(tok->bos_id(), 0);
  EXPECT_EQ(tok->eos_id(), 6);  // a special token named "<eos>"
  EXPECT_EQ(tok->vocab_size(), 7);
}

TEST(WordLevelTokenizer, WhitespaceSplitsPunctuation) {
  const auto tok = load_json_text("wordlevel_ws", R"({"pre_tokenizer": {"type": "Whitespace"},
      "model": {"type": "WordLevel", "unk_token": "<unk>",
                "vocab": {"<unk>": 0, "the": 1, "cat": 2, ".": 3}}})");
  EXPECT_EQ(tok->encode(" the cat. dog"), (Ids{1, 2, 3, 0}));
}

TEST(WordLevelTokenizer, UnknownWordWithoutUnkTokenIsAnInputError) {
  const auto tok = load_json_text("wordlevel_nounk",
                                  R"({"model": {"type": "WordLevel", "vocab": {"the": 0}}})");
  EXPECT_EQ(tok->encode("the"), (Ids{0}));
  EXPECT_THROW(tok->encode("cat"), InputError);
}

TEST(WordLevelTokenizer, JsonWriterRejectsRepeatedWords) {
  EXPECT_THROW(wordlevel_tokenizer_json({"a", "b", "a"}, "[UNK]", {}), InputError);
}

TEST(TokenizerLoader, ReadsSpecialTokensFromConfigFiles) {
  const fs::path dir = fresh_dir("config");
  write(dir / "tokenizer.json", byte_level_json());
  write(dir / "tokenizer_config.json", R"({"bos_token": {"content": "<|eot|>"}, "pad_token": null})");
  write(dir / "special_tokens_map.json",
        R"({"bos_token": "<s>", "eos_token": "<s>", "pad_token": "<|eot|>"})");
  const auto tok = load_tokenizer(dir);
  EXPECT_EQ(tok->bos_id(), 261);  // tokenizer_config.json wins
  EXPECT_EQ(tok->eos_id(), 262);
  EXPECT_EQ(tok->pad_id(), 261);
}

TEST(TokenizerLoader, PicksTheFileThatIsThere) {
  const fs::path dir = fresh_dir("dispatch");
  write(dir / "vocab.json", R"({"a": 0, "b": 1, "ab": 2, "<|endoftext|>": 3})");
  write(dir / "merges.txt", "#version: 0.2\na b\n");
  auto tok = load_tokenizer(dir);
  EXPECT_EQ(tok->encode("ab<|endoftext|>"), (Ids{2, 3}));
  EXPECT_EQ(tok->bos_id(), 3);
  EXPECT_EQ(tok->eos_id(), 3);
  write(dir / "tokenizer.json", char_bpe_json("[]"));  // tokenizer.json takes precedence
  EXPECT_EQ(load_tokenizer(dir)->encode("ab"), (Ids{1, 2}));
}

// Every validation branch: the message names the file and the field.
TEST(TokenizerLoader, RejectsMalformedTokenizerJson) {
  // A valid BPE "model" with `model_extra` added to it and `top` beside it.
  const auto bpe = [](const std::string& model_extra, const std::string& top = "") {
    return "{" + top + (top.empty() ? "" : ", ") +
           R"("model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, )" +
           (model_extra.empty() ? R"("merges": [])" : model_extra) + "}}";
  };
  const std::string no_merges = R"("unk_token": null)";
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"truncated", R"({"model": {"type": "BPE", "vocab": {"a": )", "parse error"},
      {"not_object", "[1, 2]", "a JSON object"},
      {"no_model", R"({"normalizer": null})", "model: expected a value"},
      {"unknown_type", R"({"model": {"type": "Unigram", "vocab": {}}})", "model.type"},
      {"no_vocab", R"({"model": {"type": "BPE", "merges": []}})", "model.vocab"},
      {"vocab_not_object", R"({"model": {"type": "BPE", "vocab": [], "merges": []}})", "model.vocab"},
      {"id_not_integer", R"({"model": {"type": "BPE", "vocab": {"a": "0"}, "merges": []}})",
       R"(model.vocab["a"])"},
      {"negative_id", R"({"model": {"type": "BPE", "vocab": {"a": -1}, "merges": []}})",
       R"(model.vocab["a"])"},
      {"repeated_id", R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 0}, "merges": []}})",
       "unique token id"},
      {"no_merges", bpe(no_merges), "model.merges"},
      {"merges_not_array", bpe(R"("merges": {})"), "model.merges"},
      {"merge_no_space", bpe(R"("merges": ["a b", "ab"])"), "model.merges[1]"},
      {"merge_number", bpe(R"("merges": [7])"), "model.merges[0]"},
      {"merge_unknown", bpe(R"("merges": ["a x"])"), "model.merges[0]: expected merge tokens"},
      {"merged_unknown", bpe(R"("merges": ["b a"])"), R"(merged token "ba")"},
      {"unk_unknown", bpe(R"("merges": [], "unk_token": "<unk>")"), "model.unk_token"},
      {"prefix", bpe(R"("merges": [], "continuing_subword_prefix": "##")"),
       "model.continuing_subword_prefix"},
      {"dropout", bpe(R"("merges": [], "dropout": 0.1)"), "model.dropout"},
      {"flag_type", bpe(R"("merges": [], "byte_fallback": 1)"), "model.byte_fallback"},
      {"added_not_array", bpe("", R"("added_tokens": 3)"), "added_tokens"},
      {"added_id", bpe("", R"("added_tokens": [{"id": "1", "content": "x"}])"), "added_tokens[0].id"},
      {"added_empty", bpe("", R"("added_tokens": [{"id": 1, "content": ""}])"),
       "added_tokens[0].content"},
      {"metaspace", bpe("", R"("pre_tokenizer": {"type": "Metaspace"})"), "pre_tokenizer.type"},
      {"bad_regex",
       bpe("", R"("pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                    {"type": "Split", "pattern": {"Regex": "(a"}, "behavior": "Isolated"}]})"),
       "pre_tokenizer.pretokenizers[0].pattern"},
      {"bad_behavior",
       bpe("", R"("pre_tokenizer": {"type": "Split", "pattern": {"String": " "}, "behavior": "Up"})"),
       "pre_tokenizer.behavior"},
      {"no_pretokenizers", bpe("", R"("pre_tokenizer": {"type": "Sequence"})"),
       "pre_tokenizer.pretokenizers"},
      {"normalizer", bpe("", R"("normalizer": {"type": "Lowercase"})"), "normalizer.type"},
      {"decoder", bpe("", R"("decoder": {"type": "WordPiece"})"), "decoder.type"},
      {"strip_start",
       bpe("", R"("decoder": {"type": "Strip", "content": " ", "start": "1", "stop": 0})"),
       "decoder.start"},
      {"wordlevel_bytelevel",
       R"({"pre_tokenizer": {"type": "ByteLevel"}, "model": {"type": "WordLevel", "vocab": {}}})",
       "pre_tokenizer"},
  };
  for (const auto& [name, text, field] : cases) {
    SCOPED_TRACE(name);
    const fs::path file = write(fresh_dir("bad") / (name + ".json"), text);
    try {
      load_tokenizer_json(file);
      ADD_FAILURE() << "accepted";
    } catch (const InputError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(file.string()), std::string::npos) << what;
      EXPECT_NE(what.find(field), std::string::npos) << what;
    }
  }
}

TEST(TokenizerLoader, RejectsMalformedVocabAndMerges) {
  const fs::path dir = fresh_dir("bad_gpt2");
  const auto vocab = write(dir / "vocab.json", R"({"a": 0, "b": 1, "ab": 2})");
  const auto expect_error = [](const fs::path& v, const fs::path& m, const std::string& file,
                               const std::string& field) {
    try {
      load_gpt2_vocab_merges(v, m);
      ADD_FAILURE() << "accepted " << field;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(file), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  };
  const auto three = write(dir / "three.txt", "#version: 0.2\na b\na b c\n");
  expect_error(vocab, three, three.string(), "line 3");
  const auto unknown = write(dir / "unknown.txt", "#version: 0.2\n\na x\n");
  expect_error(vocab, unknown, unknown.string(), "merges line 3");
  const auto ok = write(dir / "ok.txt", "a b\n");
  const auto broken = write(dir / "broken.json", R"({"a": 0,)");
  expect_error(broken, ok, broken.string(), "parse error");
  const auto string_id = write(dir / "string_id.json", R"({"a": "zero"})");
  expect_error(string_id, ok, string_id.string(), R"(vocab["a"])");
  expect_error(dir / "missing.json", ok, (dir / "missing.json").string(), "no such file");
}

TEST(TokenizerLoader, RejectsDirectoriesWithoutTokenizerFiles) {
  const fs::path dir = fresh_dir("empty");
  try {
    load_tokenizer(dir);
    ADD_FAILURE() << "accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.path(), dir.string());
    EXPECT_NE(e.hint().find("save_pretrained"), std::string::npos);
  }
  EXPECT_THROW(load_tokenizer(dir / "nope"), InputError);
}

TEST(TokenizerLoader, RejectsConfigNamingUnknownSpecialToken) {
  const fs::path dir = fresh_dir("bad_config");
  write(dir / "tokenizer.json", byte_level_json());
  const auto config = write(dir / "tokenizer_config.json", R"({"bos_token": "<nope>"})");
  try {
    load_tokenizer(dir);
    ADD_FAILURE() << "accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.path(), config.string());
    EXPECT_EQ(e.field(), "bos_token");
  }
  write(config, R"({"eos_token": 5})");
  EXPECT_THROW(load_tokenizer(dir), InputError);
  write(config, R"({"eos_token": )");
  EXPECT_THROW(load_tokenizer(dir), InputError);
}

// ---- special tokens around a prompt: transformers 5.23's rule ------------------
// (checked against AutoTokenizer by ConformanceModel.PromptIdsMatchAutoTokenizer)

namespace {

// byte_level_json() with its post_processor replaced by `post_processor`.
std::string byte_level_with(const nlohmann::json& post_processor) {
  auto j = nlohmann::json::parse(byte_level_json());
  j["post_processor"] = post_processor;
  return j.dump();
}

}  // namespace

TEST(PromptSpecials, PostProcessorDecidesWhenTokenizerJsonIsPresent) {
  const fs::path dir = fresh_dir("rule_template");
  write(dir / "tokenizer.json", byte_level_json());  // TemplateProcessing "<s> $A"
  write(dir / "tokenizer_config.json", R"({"add_bos_token": false, "bos_token": "<s>"})");
  EXPECT_EQ(load_tokenizer(dir)->encode_prompt("hello"), (Ids{262, 258, 'o'}));  // add_bos_token ignored, as HF
}

// On main editgate prepended <bos> here (add_bos_token true); transformers does
// not, because it drops add_bos_token when a tokenizer.json is present.
TEST(PromptSpecials, AddBosTokenIsIgnoredWithTokenizerJson) {
  const fs::path dir = fresh_dir("rule_ignored");
  write(dir / "tokenizer.json", byte_level_with(nullptr));
  write(dir / "tokenizer_config.json", R"({"add_bos_token": true, "bos_token": "<s>"})");
  write(dir / "config.json", R"({"model_type": "llama"})");
  const auto tok = load_tokenizer(dir);
  EXPECT_EQ(tok->bos_id(), 262);
  EXPECT_EQ(tok->encode_prompt("hello"), (Ids{258, 'o'}));
  editgate::harness::remove_tree(dir / "tokenizer_config.json");  // nor a Llama default without one
  EXPECT_EQ(load_tokenizer(dir)->encode_prompt("hello"), (Ids{258, 'o'}));
}

TEST(PromptSpecials, AddBosTokenDecidesWithoutTokenizerJson) {
  const fs::path dir = fresh_dir("rule_vocab_merges");
  write(dir / "vocab.json", R"({"a": 0, "b": 1, "ab": 2, "<|endoftext|>": 3})");
  write(dir / "merges.txt", "#version: 0.2\na b\n");
  EXPECT_EQ(load_tokenizer(dir)->encode_prompt("ab"), (Ids{2}));  // default false
  write(dir / "tokenizer_config.json", R"({"add_bos_token": true, "add_eos_token": true})");
  const auto tok = load_tokenizer(dir);
  EXPECT_EQ(tok->encode_prompt("ab"), (Ids{3, 2}));  // the EOS after stays out of prompts
  EXPECT_EQ(tok->prompt_specials().after, (Ids{3}));
}

TEST(PromptSpecials, ClassesThatRebuildThePostProcessor) {
  const fs::path dir = fresh_dir("rule_classes");
  write(dir / "tokenizer.json", byte_level_json());
  write(dir / "tokenizer_config.json", R"({"tokenizer_class": "GPTNeoXTokenizerFast", "bos_token": "<s>"})");
  EXPECT_EQ(load_tokenizer(dir)->encode_prompt("hello"), (Ids{258, 'o'}));
  write(dir / "tokenizer.json", byte_level_with(nullptr));
  write(dir / "tokenizer_config.json", R"({"tokenizer_class": "CodeLlamaTokenizer", "bos_token": "<s>"})");
  EXPECT_EQ(load_tokenizer(dir)->encode_prompt("hello"), (Ids{262, 258, 'o'}));
}

TEST(PromptSpecials, RobertaSequenceAndByteLevelProcessors) {
  const auto roberta = load_tokenizer_json_text(byte_level_with(nlohmann::json::parse(R"({"type": "Sequence",
      "processors": [{"type": "ByteLevel", "trim_offsets": false},
                     {"type": "RobertaProcessing", "cls": ["<s>", 262], "sep": ["<|eot|>", 261]}]})")),
                                                 "roberta");
  EXPECT_EQ(roberta->prompt_specials().before, (Ids{262}));
  EXPECT_EQ(roberta->prompt_specials().after, (Ids{261}));
  const auto byte_level = load_tokenizer_json_text(byte_level_with(nlohmann::json::parse(R"({"type": "ByteLevel"})")), "bl");
  EXPECT_TRUE(byte_level->prompt_specials().before.empty());
}

TEST(PromptSpecials, RejectsUnknownProcessorsAndTemplateTokens) {
  const std::string mystery = byte_level_with(nlohmann::json::parse(R"({"type": "Mystery"})"));
  EXPECT_THROW(load_tokenizer_json_text(mystery, "x"), InputError);
  const std::string unknown_token = byte_level_with(nlohmann::json::parse(
      R"({"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<nope>", "type_id": 0}}]})"));
  EXPECT_THROW(load_tokenizer_json_text(unknown_token, "x"), InputError);
  const fs::path dir = fresh_dir("rule_bad_flag");
  write(dir / "tokenizer.json", byte_level_json());
  write(dir / "tokenizer_config.json", R"({"add_bos_token": "yes"})");
  try {
    load_tokenizer(dir);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("add_bos_token"), std::string::npos) << e.what();
  }
}

TEST(WordLevelTokenizer, JsonWriterPutsBosInThePostProcessor) {
  const auto tok = load_tokenizer_json_text(wordlevel_tokenizer_json({"a", "b"}, "<unk>", {"<bos>"}, "<bos>"), "wl");
  EXPECT_EQ(tok->encode_prompt("a b"), (Ids{3, 0, 1}));
  EXPECT_EQ(tok->bos_id(), 3);
  EXPECT_THROW(wordlevel_tokenizer_json({"a"}, "<unk>", {}, "<bos>"), InputError);
}

// ---- tokenizer comparison (the gate's Audit case) ------------------------------

TEST(TokenizerDiff, NamesEachDifference) {
  const auto base = load_tokenizer_json_text(byte_level_json(), "base");
  EXPECT_TRUE(tokenizer_differences(*base, *load_tokenizer_json_text(byte_level_json(), "same")).empty());

  const auto no_bos = load_tokenizer_json_text(byte_level_with(nullptr), "no_bos");
  const auto d = tokenizer_differences(*base, *no_bos);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_NE(d[0].find("BOS/EOS rule"), std::string::npos) << d[0];
  EXPECT_NE(d[0].find("[262] before"), std::string::npos) << d[0];

  auto j = nlohmann::json::parse(byte_level_json());
  j["model"]["merges"] = {"h e", "l l", "Ġ w", "he ll"};  // two ranks swapped
  const auto swapped = tokenizer_differences(*base, *load_tokenizer_json_text(j.dump(), "merges"));
  ASSERT_FALSE(swapped.empty());
  EXPECT_NE(swapped[0].find("merges: 4 in base, 4 in edited; rank 2 is \"he ll\""), std::string::npos) << swapped[0];

  j = nlohmann::json::parse(byte_level_json());
  j["model"]["vocab"].erase("hello");
  j["model"]["vocab"]["hullo"] = 260;
  const auto renamed = tokenizer_differences(*base, *load_tokenizer_json_text(j.dump(), "vocab"));
  ASSERT_FALSE(renamed.empty());
  EXPECT_NE(renamed[0].find("vocabulary: id 260 is \"hello\" in base, \"hullo\" in edited (1 ids differ)"),
            std::string::npos)
      << renamed[0];
}
