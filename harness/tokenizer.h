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
#include <vector>

namespace editgate::harness {

/// Ids of the special tokens a model was trained with; absent when it has none.
struct SpecialTokens {
  std::optional<int64_t> bos;
  std::optional<int64_t> eos;
  std::optional<int64_t> pad;
  std::optional<int64_t> unk;
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

  std::optional<int64_t> bos_id() const { return special_.bos; }
  std::optional<int64_t> eos_id() const { return special_.eos; }
  std::optional<int64_t> pad_id() const { return special_.pad; }
  std::optional<int64_t> unk_id() const { return special_.unk; }
  const SpecialTokens& special_tokens() const { return special_; }

  /// Replaces the special-token ids (the loaders call it once, after reading
  /// tokenizer_config.json / special_tokens_map.json).
  void set_special_tokens(const SpecialTokens& special) { special_ = special; }

 protected:
  SpecialTokens special_;  // ids of bos/eos/pad/unk, from the tokenizer files
};

/// Loads the tokenizer of an HF checkpoint directory (or of a GGUF file, from
/// its metadata; see gguf_model.h): tokenizer.json, else
/// vocab.json + merges.txt, else tokenizer.model. Special tokens are taken from
/// tokenizer_config.json and special_tokens_map.json when present, else from
/// tokenizer.json. Throws InputError (naming the directory and a hint) when
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
