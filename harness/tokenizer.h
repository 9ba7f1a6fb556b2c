#pragma once
// Tokenizer: the interface every model-facing component uses to turn text into
// token ids and back, plus the loaders that pick an implementation from a
// checkpoint directory. It owns the special-token ids (bos/eos/pad/unk) and
// nothing else; the algorithms live in bpe_tokenizer (byte-level and
// byte-fallback BPE), wordlevel_tokenizer (the fixture model) and
// sentencepiece_tokenizer (libsentencepiece), the shared HF pipeline stages in
// tokenizer_pipeline, and the file formats in tokenizer_loader.cpp.
//
// Thread safety: every const member may be called from several threads at once.
// No torch headers here: tokenizers must stay cheap to compile.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace editgate::harness {

/// Ids of the special tokens a model was trained with; absent when it has none.
struct SpecialTokens {
  std::optional<int64_t> bos;
  std::optional<int64_t> eos;
  std::optional<int64_t> pad;
  std::optional<int64_t> unk;
};

/// The special tokens HF's `tokenizer(text)` (add_special_tokens=True) puts
/// around a single text, decided as transformers 5.23 decides it (see
/// load_tokenizer): `before` holds BOS for the Llama family, nothing for GPT-2.
struct PromptSpecials {
  std::vector<int64_t> before;  // ids prepended, in order
  std::vector<int64_t> after;   // ids appended (an EOS template); none for the causal LMs editgate runs
  std::string rule;             // where the rule came from, for messages ("tokenizer.json post_processor", ...)
  bool operator==(const PromptSpecials& o) const { return before == o.before && after == o.after; }
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  /// Token ids of `text`. No special tokens are added (prepend bos_id() yourself).
  /// Added tokens (special or not) that occur in `text` are matched as whole
  /// strings before pre-tokenisation, as HF tokenizers does.
  virtual std::vector<int64_t> encode(std::string_view text) const = 0;

  /// Text of `ids`. For byte-level BPE this is the exact inverse of encode(),
  /// invalid UTF-8 included; other kinds follow their HF/SentencePiece decoder
  /// (WordLevel joins tokens with single spaces). Unknown ids decode to "".
  virtual std::string decode(const std::vector<int64_t>& ids) const = 0;

  /// Vocabulary string of one id as stored in the tokenizer file (byte-level
  /// BPE: "Ġworld"; SentencePiece: "▁world"); "" for an id with no token.
  virtual std::string id_to_token(int64_t id) const = 0;

  /// Id of a vocabulary string (the inverse of id_to_token), if it has one.
  virtual std::optional<int64_t> token_to_id(std::string_view token) const = 0;

  /// Size of the id space, added tokens included: the largest id + 1.
  virtual int64_t vocab_size() const = 0;

  /// "bpe", "wordlevel" or "sentencepiece".
  virtual std::string kind() const = 0;

  /// The BPE merges as (left id, right id), highest priority first; empty for
  /// kinds without merges (WordLevel) or that keep them private (SentencePiece).
  virtual std::vector<std::pair<int64_t, int64_t>> merge_ids() const { return {}; }

  std::optional<int64_t> bos_id() const { return special_.bos; }
  std::optional<int64_t> eos_id() const { return special_.eos; }
  std::optional<int64_t> pad_id() const { return special_.pad; }
  std::optional<int64_t> unk_id() const { return special_.unk; }
  const SpecialTokens& special_tokens() const { return special_; }
  /// Which special tokens a prompt gets around it (HF's rule for this tokenizer).
  const PromptSpecials& prompt_specials() const { return prompt_; }
  /// Ids of a prompt: prompt_specials().before, then encode(text). The `after`
  /// specials are left out (a continuation follows; see TextModel::encode_prompt).
  std::vector<int64_t> encode_prompt(std::string_view text) const {
    std::vector<int64_t> ids = prompt_.before;
    const std::vector<int64_t> body = encode(text);
    ids.insert(ids.end(), body.begin(), body.end());
    return ids;
  }

  /// Replaces the special-token ids (the loaders call it once, after reading
  /// tokenizer_config.json / special_tokens_map.json).
  void set_special_tokens(const SpecialTokens& special) { special_ = special; }
  void set_prompt_specials(PromptSpecials prompt) { prompt_ = std::move(prompt); }

 protected:
  SpecialTokens special_;  // ids of bos/eos/pad/unk, from the tokenizer files
  PromptSpecials prompt_;  // special tokens around a prompt (none unless a loader sets them)
};

/// Loads the tokenizer of an HF checkpoint directory (or of a GGUF file, from
/// its metadata; see gguf_model.h): tokenizer.json, else
/// vocab.json + merges.txt, else tokenizer.model. Special tokens are taken from
/// tokenizer_config.json and special_tokens_map.json when present, else from
/// tokenizer.json. prompt_specials() follows transformers 5.23's AutoTokenizer:
/// with a tokenizer.json, its post_processor decides and tokenizer_config.json's
/// add_bos_token/add_eos_token are ignored (transformers drops them), except for
/// the classes that rebuild the post_processor themselves (CodeLlamaTokenizer:
/// always BOS; GPTNeoXTokenizer: none); without one (vocab.json + merges.txt,
/// tokenizer.model), add_bos_token/add_eos_token decide (default false). Throws InputError (naming the directory and a hint) when
/// none of those files exists, and InputError naming the file and field when
/// one is malformed or uses a feature editgate does not implement.
std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& model_dir);

/// An HF tokenizer.json (model BPE or WordLevel). Special tokens come from its
/// added_tokens and post_processor only.
std::unique_ptr<Tokenizer> load_tokenizer_json(const std::filesystem::path& file);
/// The same, from the text of a tokenizer.json; `source` names it in messages.
std::unique_ptr<Tokenizer> load_tokenizer_json_text(std::string_view text, const std::string& source);

/// GPT-2's vocab.json + merges.txt: byte-level BPE with the GPT-2 regex;
/// <|endoftext|> (when in the vocabulary) is an added special token and bos = eos = unk.
std::unique_ptr<Tokenizer> load_gpt2_vocab_merges(const std::filesystem::path& vocab_json,
                                                  const std::filesystem::path& merges_txt);

/// A SentencePiece tokenizer.model (Llama-1/2, Mistral); specials from the model.
std::unique_ptr<Tokenizer> load_sentencepiece(const std::filesystem::path& model_file);

}  // namespace editgate::harness
