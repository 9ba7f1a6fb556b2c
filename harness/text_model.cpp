#include "harness/text_model.h"

#include <nlohmann/json.hpp>

#include <fstream>

#include "harness/gguf_model.h"
#include "harness/input_error.h"

namespace editgate::harness {
namespace {

bool read_add_bos(const std::filesystem::path& dir, const ModelConfig& config, const Tokenizer& tok) {
  const auto path = dir / "tokenizer_config.json";
  if (std::ifstream in(path); in) {
    const auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) throw InputError(path.string(), "", "a JSON object", "invalid JSON");
    if (j.contains("add_bos_token")) {
      if (!j["add_bos_token"].is_boolean()) {
        throw InputError(path.string(), "add_bos_token", "true or false", j["add_bos_token"].dump());
      }
      return j["add_bos_token"].get<bool>() && tok.bos_id().has_value();
    }
  }
  return config.model_type != "gpt2" && tok.bos_id().has_value();
}

}  // namespace

TextModel TextModel::load(const std::filesystem::path& dir, const LoadOptions& options) {
  TextModel m;
  if (is_gguf_file(dir)) {  // one open: weights, tokenizer and add_bos all from the file's metadata
    const auto ck = GgufCheckpoint::open(dir);
    m.loaded_ = load_gguf_model(ck, options);
    m.tokenizer_ = ck.tokenizer();
    m.add_bos_ = ck.tokenizer_config()["add_bos_token"].get<bool>() && m.tokenizer_->bos_id().has_value();
    return m;
  }
  m.loaded_ = load_model(dir, options);
  m.tokenizer_ = load_tokenizer(dir);
  m.add_bos_ = read_add_bos(dir, m.loaded_.model->config(), *m.tokenizer_);
  return m;
}

std::vector<int64_t> TextModel::encode_prompt(std::string_view text) const {
  std::vector<int64_t> ids;
  if (add_bos_) ids.push_back(*tokenizer_->bos_id());
  const auto body = tokenizer_->encode(text);
  ids.insert(ids.end(), body.begin(), body.end());
  return ids;
}

std::vector<int64_t> TextModel::encode_continuation(std::string_view text) const { return tokenizer_->encode(text); }

}  // namespace editgate::harness
