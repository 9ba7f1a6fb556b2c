#pragma once
// BpeTokenizer: the BPE model of HF tokenizers, byte-level (GPT-2, GPT-J,
// Llama-3: every byte of a piece is one starting symbol, so any byte string
// round-trips) or over UTF-8 characters with byte fallback / unk (Llama-2's
// tokenizer.json). It owns the vocabulary, the ranked merges, the merge loop and
// a per-piece cache; text splitting and decoding are the Pipeline's
// (tokenizer_pipeline.h) and file parsing is tokenizer_loader.cpp's.

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "harness/tokenizer_pipeline.h"

namespace editgate::harness {

/// A BPE model as tokenizer.json's "model" (or vocab.json + merges.txt) gives it.
struct BpeConfig {
  std::vector<std::pair<std::string, int64_t>> vocab;      // token -> id
  std::vector<std::pair<std::string, std::string>> merges;  // highest priority first
  bool byte_level = false;     // symbols are bytes_to_unicode() of each byte (HF ByteLevel)
  bool byte_fallback = false;  // an unknown character becomes its <0xXX> byte tokens
  bool ignore_merges = false;  // a piece that is a whole vocabulary token is emitted as is
  bool fuse_unk = false;       // consecutive unknown characters give one unk
  std::optional<std::string> unk_token;
  // Where the data came from, for InputError messages.
  std::string source;                       // file path
  std::string vocab_source;                 // file of the vocabulary when not `source`
  std::string vocab_field = "model.vocab";  // field holding the vocabulary
  std::string merges_field = "model.merges";
  std::vector<size_t> merge_lines;  // merges.txt: line number of each merge, for messages
};

class BpeTokenizer final : public PipelineTokenizer {
 public:
  /// Throws InputError naming config.source and the field when an id is
  /// negative or repeated (see Vocabulary), the unk token is not in the vocabulary, or a merge
  /// names a token (or a merged token) that is not in the vocabulary.
  BpeTokenizer(BpeConfig config, Pipeline pipeline);

  std::string kind() const override { return "bpe"; }
  bool byte_level() const { return byte_level_; }
  std::vector<std::pair<int64_t, int64_t>> merge_ids() const override;

 protected:
  void encode_piece(std::string_view piece, std::vector<int64_t>& out) const override;
  const std::string* model_token(int64_t id) const override { return vocab_.token(id); }
  std::optional<int64_t> model_token_id(std::string_view token) const override {
    return vocab_.find(token);
  }
  int64_t model_vocab_size() const override { return vocab_.size(); }

 private:
  struct Merge {
    int32_t rank;    // position in the merge list; lower merges first
    int64_t merged;  // id of the concatenated token
  };
  static uint64_t pair_key(int64_t a, int64_t b) {
    return (static_cast<uint64_t>(a) << 32) | static_cast<uint64_t>(b);
  }
  std::vector<int64_t> tokenize_piece(std::string_view piece) const;
  void push_unknown(std::string_view chars, std::vector<int64_t>& symbols, bool& last_unk) const;

  Vocabulary vocab_;
  std::unordered_map<uint64_t, Merge> merges_;       // pair_key(left, right) -> merge
  std::array<int64_t, 256> byte_ids_{};              // byte-level: id of each byte's symbol, -1 if none
  bool byte_level_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  bool fuse_unk_ = false;
  std::optional<int64_t> unk_id_;
  mutable std::mutex cache_mutex_;                                     // guards cache_
  mutable std::unordered_map<std::string, std::vector<int64_t>, StringHash, std::equal_to<>>
      cache_;  // piece -> ids
};

}  // namespace editgate::harness
