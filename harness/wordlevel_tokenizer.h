#pragma once
// WordLevelTokenizer: HF's WordLevel model (one id per whole word, unk for the
// rest), used by editgate's fixture model. It owns the word table; splitting
// (Whitespace / WhitespaceSplit pre-tokenizers) and decoding (no decoder: HF
// joins tokens with single spaces) are the Pipeline's. Also writes the
// tokenizer.json that describes such a tokenizer, for the fixture builder.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "harness/tokenizer_pipeline.h"

namespace editgate::harness {

/// A WordLevel model as tokenizer.json's "model" gives it.
struct WordLevelConfig {
  std::vector<std::pair<std::string, int64_t>> vocab;  // word -> id
  std::optional<std::string> unk_token;                 // id for words not in vocab
  std::string source;                                   // file, for InputError messages
  std::string vocab_field = "model.vocab";
};

class WordLevelTokenizer final : public PipelineTokenizer {
 public:
  /// Throws InputError naming config.source when an id is bad (see Vocabulary)
  /// or the unk token is not in the vocabulary.
  WordLevelTokenizer(WordLevelConfig config, Pipeline pipeline);

  std::string kind() const override { return "wordlevel"; }

 protected:
  /// A word not in the vocabulary gives the unk id; with no unk token it throws
  /// InputError (HF fails the same way: "Missing [UNK] token").
  void encode_piece(std::string_view piece, std::vector<int64_t>& out) const override;
  const std::string* model_token(int64_t id) const override { return vocab_.token(id); }
  std::optional<int64_t> model_token_id(std::string_view token) const override {
    return vocab_.find(token);
  }
  int64_t model_vocab_size() const override { return vocab_.size(); }

 private:
  Vocabulary vocab_;
  std::optional<int64_t> unk_id_;  // id of unk_token
  std::string source_;             // file it was loaded from, for messages
};

/// An HF tokenizer.json (WordLevel model, WhitespaceSplit pre-tokenizer, no
/// normalizer/decoder) that the Python `tokenizers` package loads. Words are
/// split on whitespace only, so any word of `vocab` (punctuation included) is
/// one token, as fixture text is words joined by single spaces. Word ids are
/// positions in `vocab`; `unk` and then each of `special_tokens` that is not in
/// `vocab` is appended. `unk` and `special_tokens` become special added tokens.
/// A non-empty `bos` (one of the special tokens) goes before every text in a
/// TemplateProcessing post_processor (prompt_template.h), so transformers'
/// AutoTokenizer prepends it as editgate does; "" writes no post_processor.
/// Throws InputError (field "vocab") when `vocab` repeats a word.
std::string wordlevel_tokenizer_json(const std::vector<std::string>& vocab, const std::string& unk,
                                     const std::vector<std::string>& special_tokens, const std::string& bos = "");

}  // namespace editgate::harness
