#pragma once
// SentencePieceTokenizer: a SentencePiece tokenizer.model (Llama-1/2, Mistral)
// run by libsentencepiece. It owns the processor and maps its API onto
// Tokenizer; the algorithm, normalization and decoding are libsentencepiece's.
// Its header is included only by sentencepiece_tokenizer.cpp: it declares
// `namespace absl { using std::string_view; }`, which clashes with libabsl.

#include <filesystem>
#include <memory>

#include "harness/tokenizer.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace editgate::harness {

class SentencePieceTokenizer final : public Tokenizer {
 public:
  /// Throws InputError naming `model_file` when it is missing or not a model.
  explicit SentencePieceTokenizer(const std::filesystem::path& model_file);
  ~SentencePieceTokenizer() override;

  std::vector<int64_t> encode(std::string_view text) const override;
  /// SentencePiece's decoder: "▁" becomes a space and the leading one is dropped,
  /// so decode(encode(x)) == x only for normalized text without leading space.
  std::string decode(const std::vector<int64_t>& ids) const override;
  std::string id_to_token(int64_t id) const override;
  std::optional<int64_t> token_to_id(std::string_view token) const override;
  int64_t vocab_size() const override;
  std::string kind() const override { return "sentencepiece"; }

 private:
  std::unique_ptr<sentencepiece::SentencePieceProcessor> processor_;  // loaded model
};

}  // namespace editgate::harness
