#include "harness/wordlevel_tokenizer.h"

#include <nlohmann/json.hpp>

#include <unordered_set>

#include "harness/input_error.h"
#include "harness/prompt_template.h"

namespace editgate::harness {

WordLevelTokenizer::WordLevelTokenizer(WordLevelConfig config, Pipeline pipeline)
    : PipelineTokenizer(std::move(pipeline)),
      vocab_(std::move(config.vocab), config.source, config.vocab_field),
      source_(std::move(config.source)) {
  if (config.unk_token) {
    unk_id_ = vocab_.find(*config.unk_token);
    if (!unk_id_) {
      throw InputError(source_, "model.unk_token", "a token of the vocabulary",
                       "\"" + *config.unk_token + "\"");
    }
  }
}

void WordLevelTokenizer::encode_piece(std::string_view piece, std::vector<int64_t>& out) const {
  if (const auto id = vocab_.find(piece)) {
    out.push_back(*id);
  } else if (unk_id_) {
    out.push_back(*unk_id_);
  } else {
    throw InputError(source_, "model.unk_token", "an unk token for words not in the vocabulary",
                     "none, and the text holds \"" + std::string(piece) + "\"");
  }
}

std::string wordlevel_tokenizer_json(const std::vector<std::string>& vocab, const std::string& unk,
                                     const std::vector<std::string>& special_tokens, const std::string& bos) {
  using Json = nlohmann::ordered_json;
  Json words = Json::object();
  for (size_t i = 0; i < vocab.size(); ++i) {
    if (words.contains(vocab[i])) {
      throw InputError("", "vocab[" + std::to_string(i) + "]", "unique words",
                       "\"" + vocab[i] + "\" a second time");
    }
    words[vocab[i]] = i;
  }
  std::vector<std::string> specials{unk};
  specials.insert(specials.end(), special_tokens.begin(), special_tokens.end());
  Json added = Json::array();
  std::unordered_set<std::string> seen;
  for (const auto& token : specials) {
    if (!seen.insert(token).second) continue;
    if (!words.contains(token)) {
      const size_t next_id = words.size();
      words[token] = next_id;
    }
    added.push_back({{"id", words[token]},
                     {"content", token},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", true}});
  }
  if (!bos.empty() && !words.contains(bos)) {
    throw InputError("", "bos", "one of the special tokens", "\"" + bos + "\"");
  }
  const Json doc = {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", added},
      {"normalizer", nullptr},
      {"pre_tokenizer", {{"type", "WhitespaceSplit"}}},
      {"post_processor", bos.empty() ? Json(nullptr)
                                     : Json::parse(bos_eos_template(SpecialToken{bos, words[bos].get<int64_t>()},
                                                                    std::nullopt).dump())},
      {"decoder", nullptr},
      {"model", {{"type", "WordLevel"}, {"vocab", words}, {"unk_token", unk}}},
  };
  return doc.dump(2) + "\n";
}

}  // namespace editgate::harness
