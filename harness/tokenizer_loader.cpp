// Reads tokenizer files (tokenizer.json, vocab.json + merges.txt, the special
// tokens of tokenizer_config.json / special_tokens_map.json) into the
// Pipeline + model configs of tokenizer_pipeline.h, bpe_tokenizer.h and
// wordlevel_tokenizer.h, and picks the loader for a checkpoint directory.
// Every malformed or unsupported field is an InputError naming file and field.
// Limitation: the NFC normalizer is accepted as the identity (input text is
// assumed to be NFC already, as prompts almost always are).

#include <nlohmann/json.hpp>

#include <sstream>

#include "harness/file_io.h"
#include "harness/json_file.h"
#include "harness/bpe_tokenizer.h"
#include "harness/gguf_model.h"
#include "harness/input_error.h"
#include "harness/tokenizer.h"
#include "harness/wordlevel_tokenizer.h"

namespace editgate::harness {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

std::string type_name(const Json& j) { return j.is_null() ? "null" : j.type_name(); }

// Field checks: each throws InputError(file, field, expected, got).
struct Reader {
  std::string file;

  [[noreturn]] void fail(const std::string& field, const std::string& expected,
                         const std::string& got, const std::string& hint = {}) const {
    throw InputError(file, field, expected, got, hint);
  }
  const Json& get(const Json& obj, const std::string& key, const std::string& field) const {
    if (!obj.is_object()) fail(field, "an object", type_name(obj));
    auto it = obj.find(key);
    if (it == obj.end()) fail(field.empty() ? key : field + "." + key, "a value", "nothing (field missing)");
    return *it;
  }
  std::string string(const Json& j, const std::string& field) const {
    if (!j.is_string()) fail(field, "a string", type_name(j));
    return j.get<std::string>();
  }
  std::string string_at(const Json& obj, const std::string& key, const std::string& field) const {
    return string(get(obj, key, field), field + "." + key);
  }
  int64_t integer(const Json& j, const std::string& field) const {
    if (!j.is_number_integer()) fail(field, "an integer", type_name(j) + " " + j.dump());
    return j.is_number_unsigned() && j.get<uint64_t>() > INT64_MAX ? -1 : j.get<int64_t>();
  }
  bool flag(const Json& obj, const std::string& key, const std::string& field, bool fallback) const {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return fallback;
    if (!it->is_boolean()) fail(field.empty() ? key : field + "." + key, "true or false", type_name(*it));
    return it->get<bool>();
  }
  std::optional<std::string> optional_string(const Json& obj, const std::string& key,
                                             const std::string& field) const {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return std::nullopt;
    return string(*it, field + "." + key);
  }
  // The list under `key` of a {"type": "Sequence"} step, or the step itself.
  std::vector<std::pair<Json, std::string>> steps(const Json& j, const std::string& key,
                                                  const std::string& field) const {
    if (j.is_null()) return {};
    if (string_at(j, "type", field) != "Sequence") return {{j, field}};
    const Json& list = get(j, key, field);
    if (!list.is_array()) fail(field + "." + key, "an array", type_name(list));
    std::vector<std::pair<Json, std::string>> out;
    for (size_t i = 0; i < list.size(); ++i) {
      for (auto& s : steps(list[i], key, field + "." + key + "[" + std::to_string(i) + "]")) {
        out.push_back(std::move(s));
      }
    }
    return out;
  }
  [[noreturn]] void unsupported(const std::string& field, const std::string& type,
                                const std::string& supported) const {
    fail(field + ".type", supported, "\"" + type + "\"",
         "editgate does not implement it; load tokenizer.model if the checkpoint has one");
  }
};

std::shared_ptr<const Regex> compile(const Reader& r, const std::string& pattern,
                                     const std::string& field) {
  try {
    return std::make_shared<const Regex>(pattern);
  } catch (const std::invalid_argument& e) {
    r.fail(field, "a valid regular expression", e.what());
  }
}

// HF Split/Replace patterns: {"String": s} (literal) or {"Regex": r}.
std::string pattern_regex(const Reader& r, const Json& step, const std::string& field) {
  const Json& pattern = r.get(step, "pattern", field);
  if (pattern.is_object() && pattern.contains("Regex")) {
    return r.string_at(pattern, "Regex", field + ".pattern");
  }
  const std::string literal = r.string_at(pattern, "String", field + ".pattern");
  std::string quoted;
  for (char c : literal) {
    if (std::string_view(R"(\^$.|?*+()[]{}-/#)").find(c) != std::string_view::npos) quoted += '\\';
    quoted += c;
  }
  return quoted;
}

void parse_normalizer(const Reader& r, const Json& j, Pipeline& p) {
  for (const auto& [step, field] : r.steps(j, "normalizers", "normalizer")) {
    const std::string type = r.string_at(step, "type", field);
    if (type == "Prepend") {
      p.normalizer.push_back({NormalizerStep::Kind::kPrepend, "", r.string_at(step, "prepend", field)});
    } else if (type == "Replace") {
      const Json& pattern = r.get(step, "pattern", field);
      const std::string from = r.string_at(pattern, "String", field + ".pattern");
      p.normalizer.push_back({NormalizerStep::Kind::kReplace, from, r.string_at(step, "content", field)});
    } else if (type != "NFC") {
      r.unsupported(field, type, "Prepend, Replace (String pattern), NFC or Sequence");
    }
  }
}

PreTokenizerStep split_step(std::shared_ptr<const Regex> regex,
                            SplitBehavior behavior = SplitBehavior::kIsolated, bool invert = false) {
  PreTokenizerStep step;
  step.regex = std::move(regex);
  step.behavior = behavior;
  step.invert = invert;
  return step;
}

SplitBehavior split_behavior(const Reader& r, const Json& step, const std::string& field) {
  const std::string b = r.string_at(step, "behavior", field);
  if (b == "Isolated") return SplitBehavior::kIsolated;
  if (b == "Removed") return SplitBehavior::kRemoved;
  if (b == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (b == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (b == "Contiguous") return SplitBehavior::kContiguous;
  r.fail(field + ".behavior", "Isolated, Removed, MergedWithPrevious, MergedWithNext or Contiguous",
         "\"" + b + "\"");
}

// Returns whether a ByteLevel step was seen (the BPE model then maps bytes).
bool parse_pre_tokenizer(const Reader& r, const Json& j, Pipeline& p) {
  bool byte_level = false;
  for (const auto& [step, field] : r.steps(j, "pretokenizers", "pre_tokenizer")) {
    const std::string type = r.string_at(step, "type", field);
    if (type == "ByteLevel") {
      byte_level = true;
      if (r.flag(step, "add_prefix_space", field, false)) {
        p.pre_tokenizer.emplace_back().kind = PreTokenizerStep::Kind::kPrefixSpace;
      }
      if (r.flag(step, "use_regex", field, true)) {
        p.pre_tokenizer.push_back(split_step(compile(r, std::string(kGpt2Pattern), field)));
      }
    } else if (type == "Split") {
      const std::string pattern = pattern_regex(r, step, field);
      p.pre_tokenizer.push_back(split_step(compile(r, pattern, field + ".pattern"),
                                           split_behavior(r, step, field),
                                           r.flag(step, "invert", field, false)));
    } else if (type == "Whitespace") {
      p.pre_tokenizer.push_back(
          split_step(compile(r, R"(\w+|[^\w\s]+)", field), SplitBehavior::kRemoved, true));
    } else if (type == "WhitespaceSplit") {
      p.pre_tokenizer.push_back(split_step(compile(r, R"(\s+)", field), SplitBehavior::kRemoved));
    } else if (type == "Digits") {
      const char* pattern = r.flag(step, "individual_digits", field, false) ? R"(\p{N})" : R"(\p{N}+)";
      p.pre_tokenizer.push_back(split_step(compile(r, pattern, field)));
    } else {
      r.unsupported(field, type, "ByteLevel, Split, Whitespace, WhitespaceSplit, Digits or Sequence");
    }
  }
  return byte_level;
}

void parse_decoder(const Reader& r, const Json& j, Pipeline& p) {
  if (j.is_null()) return;
  p.decoder.emplace();
  using Kind = DecoderStep::Kind;
  for (const auto& [step, field] : r.steps(j, "decoders", "decoder")) {
    const std::string type = r.string_at(step, "type", field);
    DecoderStep d;
    if (type == "ByteLevel") {
      d.kind = Kind::kByteLevel;
    } else if (type == "ByteFallback") {
      d.kind = Kind::kByteFallback;
    } else if (type == "Fuse") {
      d.kind = Kind::kFuse;
    } else if (type == "Replace") {
      d.kind = Kind::kReplace;
      d.pattern = r.string_at(r.get(step, "pattern", field), "String", field + ".pattern");
      d.content = r.string_at(step, "content", field);
    } else if (type == "Strip") {
      d.kind = Kind::kStrip;
      d.content = r.string_at(step, "content", field);
      d.start = static_cast<int>(r.integer(r.get(step, "start", field), field + ".start"));
      d.stop = static_cast<int>(r.integer(r.get(step, "stop", field), field + ".stop"));
    } else {
      r.unsupported(field, type, "ByteLevel, ByteFallback, Fuse, Replace, Strip or Sequence");
    }
    p.decoder->push_back(std::move(d));
  }
}

std::vector<std::pair<std::string, int64_t>> parse_vocab(const Reader& r, const Json& vocab,
                                                         const std::string& field) {
  if (!vocab.is_object()) r.fail(field, "an object {token: id}", type_name(vocab));
  std::vector<std::pair<std::string, int64_t>> out;
  out.reserve(vocab.size());
  for (const auto& [token, id] : vocab.items()) {
    out.emplace_back(token, r.integer(id, field + "[\"" + token + "\"]"));
  }
  return out;
}

// The special ids a post_processor puts around a single text (HF
// TemplateProcessing, RobertaProcessing, BertProcessing, ByteLevel, Sequence),
// and bos/eos from them when nothing set those yet. An id the template names
// but the vocabulary lacks is an error: HF would refuse the file too.
void post_processor_specials(const Reader& r, const Json& j, const std::string& field,
                             const PipelineTokenizer& tok, SpecialTokens& s, PromptSpecials& prompt) {
  if (j.is_null()) return;
  const std::string type = r.string_at(j, "type", field);
  auto id_of = [&](const std::string& token, const std::string& where) {
    const auto id = tok.token_to_id(token);
    if (!id) r.fail(where, "a token of the vocabulary", "\"" + token + "\"");
    return *id;
  };
  PromptSpecials own;  // this processor's tokens, wrapped around what earlier ones added
  if (type == "Sequence") {
    const Json& list = r.get(j, "processors", field);
    if (!list.is_array()) r.fail(field + ".processors", "an array", type_name(list));
    for (size_t i = 0; i < list.size(); ++i) {
      post_processor_specials(r, list[i], field + ".processors[" + std::to_string(i) + "]", tok, s, prompt);
    }
    return;
  } else if (type == "RobertaProcessing" || type == "BertProcessing") {
    for (const char* key : {"cls", "sep"}) {  // ["<s>", 0]: HF uses the id written there
      const Json& pair = r.get(j, key, field);
      if (!pair.is_array() || pair.size() != 2) r.fail(field + "." + key, "[token, id]", pair.dump());
      const int64_t id = r.integer(pair[1], field + "." + key + "[1]");
      (std::string(key) == "cls" ? own.before : own.after).push_back(id);
    }
    if (!s.bos) s.bos = own.before[0];
    if (!s.eos) s.eos = own.after[0];
  } else if (type == "TemplateProcessing") {
    const Json& single = r.get(j, "single", field);
    if (!single.is_array()) r.fail(field + ".single", "an array", type_name(single));
    const Json specials = j.value("special_tokens", Json::object());
    bool after_sequence = false;
    for (size_t i = 0; i < single.size(); ++i) {
      const std::string where = field + ".single[" + std::to_string(i) + "]";
      const Json& piece = single[i];
      if (piece.is_object() && piece.contains("Sequence")) {
        after_sequence = true;
        continue;
      }
      const std::string name = r.string_at(r.get(piece, "SpecialToken", where), "id", where + ".SpecialToken");
      std::vector<int64_t> ids;
      if (specials.is_object() && specials.contains(name) && specials[name].contains("ids")) {
        for (const auto& id : specials[name]["ids"]) ids.push_back(r.integer(id, field + ".special_tokens." + name));
      } else {
        ids.push_back(id_of(name, where + ".SpecialToken.id"));
      }
      auto& side = after_sequence ? own.after : own.before;
      side.insert(side.end(), ids.begin(), ids.end());
      auto& named = after_sequence ? s.eos : s.bos;
      if (!named && ids.size() == 1) named = ids[0];
    }
  } else if (type != "ByteLevel") {
    r.unsupported(field, type, "TemplateProcessing, RobertaProcessing, BertProcessing, ByteLevel or Sequence");
  }
  own.before.insert(own.before.end(), prompt.before.begin(), prompt.before.end());
  own.after.insert(own.after.begin(), prompt.after.begin(), prompt.after.end());
  prompt.before = std::move(own.before);
  prompt.after = std::move(own.after);
}

// Well-known names of special added tokens, for fields nothing else set.
void name_specials(const Pipeline& p, SpecialTokens& s) {
  for (const auto& t : p.added_tokens) {
    if (!t.special) continue;
    const std::string& c = t.content;
    if (!s.bos && (c == "<s>" || c == "<|begin_of_text|>" || c == "<bos>")) s.bos = t.id;
    if (!s.eos && (c == "</s>" || c == "<|end_of_text|>" || c == "<eos>")) s.eos = t.id;
    if (!s.pad && (c == "<pad>" || c == "[PAD]")) s.pad = t.id;
    if (!s.unk && (c == "<unk>" || c == "[UNK]")) s.unk = t.id;
  }
  for (const auto& t : p.added_tokens) {
    if (t.special && t.content == "<|endoftext|>") {  // GPT-2: bos = eos = unk
      if (!s.bos) s.bos = t.id;
      if (!s.eos) s.eos = t.id;
      if (!s.unk) s.unk = t.id;
    }
  }
}

// bos_token etc. of tokenizer_config.json / special_tokens_map.json: a string or
// {"content": string}; fields already set by an earlier file are kept.
void config_specials(const fs::path& file, const Tokenizer& tok, SpecialTokens& s,
                     SpecialTokens& from_files) {
  if (!fs::is_regular_file(file)) return;
  const Reader r{file.string()};
  const Json j = read_json_file(file, "a JSON object");
  if (!j.is_object()) r.fail("", "a JSON object", type_name(j));
  const std::pair<const char*, std::optional<int64_t> SpecialTokens::*> fields[] = {
      {"bos_token", &SpecialTokens::bos}, {"eos_token", &SpecialTokens::eos},
      {"pad_token", &SpecialTokens::pad}, {"unk_token", &SpecialTokens::unk}};
  for (const auto& [key, member] : fields) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null() || from_files.*member) continue;
    const std::string token = it->is_object() ? r.string_at(*it, "content", key) : r.string(*it, key);
    const auto id = tok.token_to_id(token);
    if (!id) r.fail(key, "a token of the vocabulary", "\"" + token + "\"");
    s.*member = from_files.*member = id;
  }
}

// The tokenizer class AutoTokenizer instantiates: tokenizer_config.json's
// tokenizer_class without "Fast" (an alias in transformers 5), else the class
// config.json's model_type maps to; only the classes whose prompt rule differs
// from the generic one matter here, so other model types give "".
std::string hf_tokenizer_class(const fs::path& dir, const Json& config) {
  if (config.is_object() && config.contains("tokenizer_class") && config["tokenizer_class"].is_string()) {
    std::string name = config["tokenizer_class"].get<std::string>();
    if (name.ends_with("Fast")) name.resize(name.size() - 4);
    return name;
  }
  if (!fs::is_regular_file(dir / "config.json")) return "";
  const Json model = Json::parse(read_file(dir / "config.json", "an HF config.json"), nullptr, /*allow_exceptions=*/false);
  if (model.is_object() && model.value("model_type", Json()) == "gpt_neox") return "GPTNeoXTokenizer";
  return "";
}

// transformers 5.23's special-token rule for a checkpoint directory (see
// load_tokenizer in tokenizer.h; tokenization_utils_base._from_pretrained pops
// add_bos_token/add_eos_token whenever a tokenizer.json is present, and
// TokenizersBackend.update_post_processor builds "bos $A eos" from them otherwise).
PromptSpecials hf_prompt_specials(const fs::path& dir, const Tokenizer& tok, bool has_tokenizer_json) {
  const fs::path file = dir / "tokenizer_config.json";
  const Json config = fs::is_regular_file(file) ? read_json_file(file, "a JSON object") : Json::object();
  const std::string cls = hf_tokenizer_class(dir, config);
  // Checked even where transformers ignores them: a non-boolean is a broken file.
  const Reader r{file.string()};
  const bool add_bos = r.flag(config, "add_bos_token", "", false);
  const bool add_eos = r.flag(config, "add_eos_token", "", false);
  PromptSpecials p;
  if (has_tokenizer_json && cls == "GPTNeoXTokenizer") {
    p.rule = "GPTNeoXTokenizer (rebuilds its post_processor without special tokens)";
  } else if (has_tokenizer_json && cls == "CodeLlamaTokenizer") {
    if (tok.bos_id()) p.before.push_back(*tok.bos_id());
    p.rule = "CodeLlamaTokenizer (always BOS)";
  } else if (has_tokenizer_json) {
    p = tok.prompt_specials();
  } else {
    if (add_bos && tok.bos_id()) p.before.push_back(*tok.bos_id());
    if (add_eos && tok.eos_id()) p.after.push_back(*tok.eos_id());
    p.rule = "add_bos_token/add_eos_token of " + file.string() + " (default false)";
  }
  return p;
}

}  // namespace

std::unique_ptr<Tokenizer> load_tokenizer_json(const fs::path& file) {
  return load_tokenizer_json_text(read_file(file, "an HF tokenizer.json"), file.string());
}

std::unique_ptr<Tokenizer> load_tokenizer_json_text(std::string_view text, const std::string& source) {
  const Reader r{source};
  Json j;
  try {
    j = Json::parse(text);
  } catch (const Json::exception& e) {  // parse_error, and out_of_range for numbers that overflow
    throw InputError(source, "", "an HF tokenizer.json", e.what(), "truncated download or hand edit?");
  }
  if (!j.is_object()) r.fail("", "a JSON object", type_name(j));
  Pipeline pipeline;
  if (auto it = j.find("added_tokens"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) r.fail("added_tokens", "an array", type_name(*it));
    for (size_t i = 0; i < it->size(); ++i) {
      const Json& t = (*it)[i];
      const std::string field = "added_tokens[" + std::to_string(i) + "]";
      AddedToken a{r.string_at(t, "content", field), r.integer(r.get(t, "id", field), field + ".id"),
                   r.flag(t, "special", field, false), r.flag(t, "lstrip", field, false),
                   r.flag(t, "rstrip", field, false)};
      if (a.content.empty()) r.fail(field + ".content", "a non-empty string", "\"\"");
      if (a.id < 0 || a.id >= (int64_t{1} << 31)) {
        r.fail(field + ".id", "an id in [0, 2^31)", std::to_string(a.id));
      }
      pipeline.added_tokens.push_back(std::move(a));
    }
  }
  parse_normalizer(r, j.value("normalizer", Json()), pipeline);
  const bool byte_level = parse_pre_tokenizer(r, j.value("pre_tokenizer", Json()), pipeline);
  parse_decoder(r, j.value("decoder", Json()), pipeline);

  const Json& model = r.get(j, "model", "");
  const std::string type = model.contains("type") ? r.string_at(model, "type", "model")
                           : model.contains("merges") ? "BPE" : "";
  const auto unk = r.optional_string(model, "unk_token", "model");
  auto vocab = parse_vocab(r, r.get(model, "vocab", "model"), "model.vocab");
  std::unique_ptr<PipelineTokenizer> tok;
  if (type == "BPE") {
    BpeConfig c;
    c.vocab = std::move(vocab);
    c.byte_level = byte_level;
    c.byte_fallback = r.flag(model, "byte_fallback", "model", false);
    c.ignore_merges = r.flag(model, "ignore_merges", "model", false);
    c.fuse_unk = r.flag(model, "fuse_unk", "model", false);
    c.unk_token = unk;
    c.source = source;
    for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
      const auto value = r.optional_string(model, key, "model");
      if (value && !value->empty()) {
        r.fail(std::string("model.") + key, "null or \"\" (not implemented)", "\"" + *value + "\"");
      }
    }
    const Json dropout = model.value("dropout", Json());
    if (!dropout.is_null() && !(dropout.is_number() && dropout.get<double>() == 0)) {
      r.fail("model.dropout", "null (BPE dropout is for training)", dropout.dump());
    }
    const Json& merges = r.get(model, "merges", "model");
    if (!merges.is_array()) r.fail("model.merges", "an array", type_name(merges));
    for (size_t i = 0; i < merges.size(); ++i) {
      const std::string field = "model.merges[" + std::to_string(i) + "]";
      const Json& m = merges[i];
      if (m.is_array() && m.size() == 2) {
        c.merges.emplace_back(r.string(m[0], field + "[0]"), r.string(m[1], field + "[1]"));
        continue;
      }
      const std::string s = m.is_string() ? m.get<std::string>() : std::string();
      const size_t space = s.find(' ');
      if (space == std::string::npos) r.fail(field, "\"left right\" or [\"left\", \"right\"]", m.dump());
      c.merges.emplace_back(s.substr(0, space), s.substr(space + 1));
    }
    tok = std::make_unique<BpeTokenizer>(std::move(c), std::move(pipeline));
  } else if (type == "WordLevel") {
    if (byte_level) r.fail("pre_tokenizer", "no ByteLevel step with a WordLevel model", "ByteLevel");
    tok = std::make_unique<WordLevelTokenizer>(WordLevelConfig{std::move(vocab), unk, source},
                                               std::move(pipeline));
  } else {
    r.fail("model.type", "\"BPE\" or \"WordLevel\"", "\"" + type + "\"",
           "WordPiece and Unigram are not implemented; use tokenizer.model for SentencePiece models");
  }
  SpecialTokens s;
  PromptSpecials prompt;
  prompt.rule = (j.value("post_processor", Json()).is_null() ? "no post_processor in " : "post_processor of ") + source;
  post_processor_specials(r, j.value("post_processor", Json()), "post_processor", *tok, s, prompt);
  if (unk) s.unk = tok->token_to_id(*unk);
  name_specials(tok->pipeline(), s);
  tok->set_special_tokens(s);
  tok->set_prompt_specials(std::move(prompt));
  return tok;
}

std::unique_ptr<Tokenizer> load_gpt2_vocab_merges(const fs::path& vocab_json, const fs::path& merges_txt) {
  const Reader vr{vocab_json.string()};
  BpeConfig c;
  c.vocab = parse_vocab(vr, read_json_file(vocab_json, "a GPT-2 vocab.json {token: id}"), "vocab");
  c.byte_level = true;
  c.source = merges_txt.string();
  c.vocab_source = vocab_json.string();
  c.vocab_field = "vocab";
  c.merges_field = "merges";
  std::istringstream lines(read_file(merges_txt, "a GPT-2 merges.txt"));
  std::string line;
  for (size_t number = 1; std::getline(lines, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || (number == 1 && line.starts_with("#version"))) continue;
    const size_t space = line.find(' ');
    if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos) {
      throw InputError(merges_txt.string(), "line " + std::to_string(number),
                       "two tokens separated by one space", "\"" + line + "\"");
    }
    c.merges.emplace_back(line.substr(0, space), line.substr(space + 1));
    c.merge_lines.push_back(number);
  }
  Pipeline p;
  p.pre_tokenizer.push_back(split_step(std::make_shared<const Regex>(kGpt2Pattern)));
  p.decoder.emplace().emplace_back().kind = DecoderStep::Kind::kByteLevel;
  for (const auto& [token, id] : c.vocab) {
    if (token == "<|endoftext|>") p.added_tokens.push_back({token, id, true});
  }
  auto tok = std::make_unique<BpeTokenizer>(std::move(c), std::move(p));
  SpecialTokens s;
  name_specials(tok->pipeline(), s);
  tok->set_special_tokens(s);
  return tok;
}

std::unique_ptr<Tokenizer> load_tokenizer(const fs::path& model_dir) {
  if (is_gguf_file(model_dir)) return GgufCheckpoint::open(model_dir).tokenizer();
  if (!fs::is_directory(model_dir)) {
    throw InputError(model_dir.string(), "", "a checkpoint directory", "no such directory");
  }
  std::unique_ptr<Tokenizer> tok;
  const bool has_tokenizer_json = fs::is_regular_file(model_dir / "tokenizer.json");
  if (has_tokenizer_json) {
    tok = load_tokenizer_json(model_dir / "tokenizer.json");
  } else if (fs::is_regular_file(model_dir / "vocab.json") && fs::is_regular_file(model_dir / "merges.txt")) {
    tok = load_gpt2_vocab_merges(model_dir / "vocab.json", model_dir / "merges.txt");
  } else if (fs::is_regular_file(model_dir / "tokenizer.model")) {
    tok = load_sentencepiece(model_dir / "tokenizer.model");
  } else {
    throw InputError(model_dir.string(), "tokenizer",
                     "tokenizer.json, vocab.json + merges.txt, or tokenizer.model", "none of them",
                     "copy the tokenizer files of the base checkpoint (save_pretrained writes them)");
  }
  SpecialTokens s = tok->special_tokens(), from_files;
  config_specials(model_dir / "tokenizer_config.json", *tok, s, from_files);
  config_specials(model_dir / "special_tokens_map.json", *tok, s, from_files);
  tok->set_special_tokens(s);
  tok->set_prompt_specials(hf_prompt_specials(model_dir, *tok, has_tokenizer_json));
  return tok;
}

}  // namespace editgate::harness
