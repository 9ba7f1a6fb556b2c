#include "harness/gguf_gemma_tokenizer.h"

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "harness/input_error.h"

namespace editgate::harness {
using nlohmann::json;

namespace {

// llama.cpp token types (llama_token_type).
constexpr int64_t kTokenControl = 3;
constexpr int64_t kTokenUserDefined = 4;
constexpr std::string_view kSpaceMark = "\xE2\x96\x81";  // U+2581, SentencePiece's space

// Gemma files store the tokens made of spaces only as real spaces; in the
// vocabulary (and so in the merges) they are spelled with "▁", as the
// normalizer turns text spaces into it.
std::string respell(const std::string& token) {
  if (token.empty() || token.find_first_not_of(' ') != std::string::npos) return token;
  std::string out;
  for (size_t i = 0; i < token.size(); ++i) out += kSpaceMark;
  return out;
}

bool is_continuation_byte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

json gemma_tokenizer_json(const GgufFile& f) {
  const std::string where = f.path().string();
  const auto& tokens = f.get_array("tokenizer.ggml.tokens", GgufValueType::kString);
  std::vector<int64_t> types(tokens.size(), 1);
  if (f.find("tokenizer.ggml.token_type") != nullptr) {
    const auto& t = f.get_array("tokenizer.ggml.token_type", GgufValueType::kInt32);
    if (t.size() != tokens.size()) {
      throw InputError(where, "metadata 'tokenizer.ggml.token_type'",
                       std::to_string(tokens.size()) + " entries (one per token)", std::to_string(t.size()));
    }
    for (size_t i = 0; i < t.size(); ++i) types[i] = t[i].i;
  }
  std::vector<std::string> spelled;
  spelled.reserve(tokens.size());
  std::unordered_map<std::string_view, int64_t> ids;
  ids.reserve(tokens.size());
  for (const auto& t : tokens) spelled.push_back(respell(t.s));
  json vocab = json::object();
  for (size_t id = 0; id < spelled.size(); ++id) {
    if (!ids.emplace(spelled[id], static_cast<int64_t>(id)).second) {
      throw InputError(where, "metadata 'tokenizer.ggml.tokens[" + std::to_string(id) + "]'", "each token once",
                       "a second '" + tokens[id].s + "'");
    }
    vocab[spelled[id]] = id;
  }

  // File order, and within a token the longest left piece first (transformers'
  // generate_merges with each token's score its negated position).
  json merges = json::array();
  for (const std::string& token : spelled) {
    for (size_t cut = token.size() - (token.empty() ? 0 : 1); cut > 0; --cut) {
      if (is_continuation_byte(token[cut])) continue;  // split between characters only
      const std::string_view whole(token);
      const auto left = whole.substr(0, cut), right = whole.substr(cut);
      if (ids.contains(left) && ids.contains(right)) merges.push_back({std::string(left), std::string(right)});
    }
  }

  // Control tokens are special added tokens; user-defined ones ("\n", "<h1>")
  // are matched whole but not special, when the vocabulary spells them alike.
  json added = json::array();
  for (size_t id = 0; id < tokens.size(); ++id) {
    const bool control = types[id] == kTokenControl;
    if (!control && !(types[id] == kTokenUserDefined && ids.contains(tokens[id].s))) continue;
    added.push_back({{"id", id}, {"content", tokens[id].s}, {"single_word", false}, {"lstrip", false},
                     {"rstrip", false}, {"normalized", false}, {"special", control}});
  }

  json unk = nullptr;
  if (f.find("tokenizer.ggml.unknown_token_id") != nullptr) {
    const uint64_t id = f.get_uint("tokenizer.ggml.unknown_token_id");
    if (id < tokens.size()) unk = spelled[id];
  }
  const json space = {{"String", " "}};
  const json mark = {{"String", std::string(kSpaceMark)}};
  return {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", added},
      {"normalizer", {{"type", "Replace"}, {"pattern", space}, {"content", std::string(kSpaceMark)}}},
      {"pre_tokenizer", {{"type", "Split"}, {"pattern", space}, {"behavior", "MergedWithPrevious"}, {"invert", false}}},
      {"post_processor", nullptr},
      {"decoder",
       {{"type", "Sequence"},
        {"decoders",
         {{{"type", "Replace"}, {"pattern", mark}, {"content", " "}}, {{"type", "ByteFallback"}}, {{"type", "Fuse"}}}}}},
      {"model",
       {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", unk}, {"continuing_subword_prefix", nullptr},
        {"end_of_word_suffix", nullptr}, {"fuse_unk", true}, {"byte_fallback", true}, {"ignore_merges", false},
        {"vocab", vocab}, {"merges", merges}}},
  };
}

}  // namespace editgate::harness
