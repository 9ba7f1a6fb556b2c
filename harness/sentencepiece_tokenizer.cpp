#include "harness/sentencepiece_tokenizer.h"

#include <sentencepiece_processor.h>

#include "harness/input_error.h"

namespace editgate::harness {
namespace {

std::optional<int64_t> id_or_none(int id) {
  return id < 0 ? std::nullopt : std::optional<int64_t>(id);
}

}  // namespace

SentencePieceTokenizer::SentencePieceTokenizer(const std::filesystem::path& model_file)
    : processor_(std::make_unique<sentencepiece::SentencePieceProcessor>()) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(model_file, ec)) {
    throw InputError(model_file.string(), "", "a SentencePiece model file", "no such file");
  }
  const auto status = processor_->Load(model_file.string());
  if (!status.ok()) {
    throw InputError(model_file.string(), "ModelProto", "a serialized SentencePiece ModelProto",
                     status.ToString(), "truncated download, or not a tokenizer.model?");
  }
  special_.bos = id_or_none(processor_->bos_id());
  special_.eos = id_or_none(processor_->eos_id());
  special_.pad = id_or_none(processor_->pad_id());
  special_.unk = id_or_none(processor_->unk_id());
}

SentencePieceTokenizer::~SentencePieceTokenizer() = default;

std::vector<int64_t> SentencePieceTokenizer::encode(std::string_view text) const {
  std::vector<int> ids;
  processor_->Encode(text, &ids).IgnoreError();  // fails only when no model is loaded
  return {ids.begin(), ids.end()};
}

std::string SentencePieceTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::vector<int> valid;
  valid.reserve(ids.size());
  for (int64_t id : ids) {
    if (id >= 0 && id < processor_->GetPieceSize()) valid.push_back(static_cast<int>(id));
  }
  std::string text;
  processor_->Decode(valid, &text).IgnoreError();  // ids were range-checked above
  return text;
}

std::string SentencePieceTokenizer::id_to_token(int64_t id) const {
  if (id < 0 || id >= processor_->GetPieceSize()) return {};
  return processor_->IdToPiece(static_cast<int>(id));
}

std::optional<int64_t> SentencePieceTokenizer::token_to_id(std::string_view token) const {
  const int id = processor_->PieceToId(token);  // unknown pieces give unk_id()
  if (id < 0 || processor_->IdToPiece(id) != token) return std::nullopt;
  return id;
}

int64_t SentencePieceTokenizer::vocab_size() const { return processor_->GetPieceSize(); }

std::unique_ptr<Tokenizer> load_sentencepiece(const std::filesystem::path& model_file) {
  return std::make_unique<SentencePieceTokenizer>(model_file);
}

}  // namespace editgate::harness
