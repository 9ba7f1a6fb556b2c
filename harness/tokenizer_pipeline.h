#pragma once
// The stages HF `tokenizers` runs around a tokenization model, shared by
// BpeTokenizer and WordLevelTokenizer: added-token matching, the normalizer,
// the pre-tokenizer (PCRE2 regex splits, byte-level prefix space) and the
// decoder chain, plus GPT-2's byte <-> unicode alphabet. This unit owns the
// semantics of those stages; reading them from tokenizer.json is
// tokenizer_loader.cpp's job and the models are in bpe_/wordlevel_tokenizer.

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "harness/tokenizer.h"

namespace editgate::harness {

/// GPT-2's pre-tokenizer regex (HF ByteLevel with use_regex=true).
inline constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
/// Llama-3's pre-tokenizer regex (an HF Split in front of ByteLevel).
inline constexpr std::string_view kLlama3Pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3})"
    R"(| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

/// GPT-2's bytes_to_unicode(): the printable character (UTF-8) standing for each byte.
const std::array<std::string, 256>& bytes_to_unicode();
/// The byte a byte-level character stands for; nullopt if it is not one of the 256.
std::optional<uint8_t> unicode_to_byte(char32_t c);

/// A PCRE2 regex compiled with UTF|UCP|MATCH_INVALID_UTF (JIT when available).
/// `\s` and `\w` are rewritten to the Unicode classes of the Oniguruma regexes
/// HF uses (White_Space; Alphabetic+M+Nd+Pc+Join_Control). Invalid UTF-8 in a
/// subject never matches, so it ends up in the gaps between matches instead of
/// failing the search.
class Regex {
 public:
  /// Throws std::invalid_argument carrying PCRE2's message and the offset.
  explicit Regex(std::string_view pattern);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  /// [begin, end) byte ranges of the non-empty, non-overlapping matches.
  std::vector<std::pair<size_t, size_t>> find_all(std::string_view text) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;  // pcre2_code (pcre2.h stays out of this header)
};

/// Hash for unordered maps keyed by std::string that accept string_view lookups.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

/// The token <-> id table of a model (BPE or WordLevel "vocab").
class Vocabulary {
 public:
  Vocabulary() = default;
  /// Throws InputError naming `source` and `field` when an id is negative,
  /// 2^31 or more, or shared by two tokens.
  Vocabulary(std::vector<std::pair<std::string, int64_t>> entries, const std::string& source,
             const std::string& field);

  std::optional<int64_t> find(std::string_view token) const {
    auto it = ids_.find(token);
    return it == ids_.end() ? std::nullopt : std::optional<int64_t>(it->second);
  }
  /// The token of `id`, or nullptr when no token has that id.
  const std::string* token(int64_t id) const {
    if (id < 0 || id >= static_cast<int64_t>(tokens_.size()) || !has_token_[id]) return nullptr;
    return &tokens_[id];
  }
  int64_t size() const { return static_cast<int64_t>(tokens_.size()); }  // largest id + 1

 private:
  std::unordered_map<std::string, int64_t, StringHash, std::equal_to<>> ids_;  // token -> id
  std::vector<std::string> tokens_;  // id -> token ("" in holes)
  std::vector<bool> has_token_;      // id -> whether some token has it
};

/// One entry of tokenizer.json's added_tokens (single_word/normalized ignored:
/// matching is always on the raw text).
struct AddedToken {
  std::string content;
  int64_t id = 0;
  bool special = false;
  bool lstrip = false;  // absorb whitespace left of the match
  bool rstrip = false;  // absorb whitespace right of the match
};

/// HF normalizers editgate implements: Prepend and Replace (string pattern).
struct NormalizerStep {
  enum class Kind { kPrepend, kReplace };
  Kind kind = Kind::kReplace;
  std::string pattern;  // kReplace: text to replace
  std::string content;  // kPrepend: prefix; kReplace: replacement
};

/// HF SplitDelimiterBehavior.
enum class SplitBehavior { kIsolated, kRemoved, kMergedWithPrevious, kMergedWithNext, kContiguous };

/// One pre-tokenizer step. Whitespace, WhitespaceSplit, Split and ByteLevel's
/// regex all become kSplit; ByteLevel's add_prefix_space becomes kPrefixSpace.
struct PreTokenizerStep {
  enum class Kind { kSplit, kPrefixSpace };
  Kind kind = Kind::kSplit;
  std::shared_ptr<const Regex> regex;  // kSplit only
  SplitBehavior behavior = SplitBehavior::kIsolated;
  bool invert = false;  // treat the gaps between matches as the delimiters
};

/// HF decoders editgate implements. ByteLevel and ByteFallback keep invalid
/// UTF-8 as raw bytes (HF replaces it with U+FFFD) so decode inverts encode.
struct DecoderStep {
  enum class Kind { kByteLevel, kByteFallback, kFuse, kReplace, kStrip };
  Kind kind = Kind::kFuse;
  std::string pattern;  // kReplace
  std::string content;  // kReplace: replacement; kStrip: the character stripped
  int start = 0;        // kStrip: how many to strip at the start of each token
  int stop = 0;         // kStrip: ... at the end
};

/// The stages of one tokenizer, as a tokenizer.json describes them.
struct Pipeline {
  std::vector<AddedToken> added_tokens;
  std::vector<NormalizerStep> normalizer;
  std::vector<PreTokenizerStep> pre_tokenizer;
  std::optional<std::vector<DecoderStep>> decoder;  // nullopt: join tokens with " " (HF)
};

/// A Tokenizer made of a Pipeline and a model; subclasses supply the model.
class PipelineTokenizer : public Tokenizer {
 public:
  std::vector<int64_t> encode(std::string_view text) const final;
  std::string decode(const std::vector<int64_t>& ids) const final;
  std::string id_to_token(int64_t id) const final;
  std::optional<int64_t> token_to_id(std::string_view token) const final;
  int64_t vocab_size() const final;

  const Pipeline& pipeline() const { return pipeline_; }
  /// `text` cut at added tokens: (segment, id of the added token or nullopt).
  std::vector<std::pair<std::string_view, std::optional<int64_t>>> split_added(
      std::string_view text) const;
  /// Normalizer then pre-tokenizer of one segment that holds no added token.
  std::vector<std::string> pre_tokenize(std::string_view segment) const;

 protected:
  explicit PipelineTokenizer(Pipeline pipeline);

  /// Appends the ids of one pre-tokenized piece.
  virtual void encode_piece(std::string_view piece, std::vector<int64_t>& out) const = 0;
  /// The model's vocabulary string of `id`, or nullptr.
  virtual const std::string* model_token(int64_t id) const = 0;
  virtual std::optional<int64_t> model_token_id(std::string_view token) const = 0;
  virtual int64_t model_vocab_size() const = 0;

 private:
  Pipeline pipeline_;
  std::unordered_map<int64_t, size_t> added_by_id_;          // id -> index in added_tokens
  std::unordered_map<std::string, int64_t, StringHash, std::equal_to<>> added_by_text_;  // content -> id
  std::array<std::vector<size_t>, 256> added_by_first_byte_;  // candidates, longest first
};

}  // namespace editgate::harness
