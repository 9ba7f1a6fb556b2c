#include "harness/gguf_model.h"

#include <ATen/ATen.h>

#include <cstring>
#include <fstream>
#include <regex>

#include "harness/gguf_dequant.h"
#include "harness/gguf_gemma3.h"
#include "harness/gguf_gemma_tokenizer.h"
#include "harness/input_error.h"
#include "harness/prompt_template.h"
#include "harness/tokenizer_pipeline.h"

namespace editgate::harness {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string in_quotes(std::string_view s) { return "'" + std::string(s) + "'"; }

// llama.cpp token types (llama_token_type): control tokens are HF special added
// tokens, user-defined ones non-special added tokens.
constexpr int64_t kTokenControl = 3;
constexpr int64_t kTokenUserDefined = 4;

// HF name and RoPE permutation for a GGUF llama tensor name, or "" when unknown.
struct Mapped {
  std::string name;
  bool permute_q = false;
  bool permute_k = false;
};

Mapped map_llama_name(const std::string& g) {
  if (g == "token_embd.weight") return {"model.embed_tokens.weight"};
  if (g == "output_norm.weight") return {"model.norm.weight"};
  if (g == "output.weight") return {"lm_head.weight"};
  static const std::regex kBlock(R"(blk\.(\d+)\.([a-z_]+)\.(weight|bias))");
  std::smatch m;
  if (!std::regex_match(g, m, kBlock)) return {};
  const std::string h = "model.layers." + m[1].str() + ".";
  const std::string part = m[2].str(), kind = m[3].str();
  static const std::map<std::string, std::string> kParts = {
      {"attn_norm", "input_layernorm"},       {"ffn_norm", "post_attention_layernorm"},
      {"attn_q", "self_attn.q_proj"},        {"attn_k", "self_attn.k_proj"},
      {"attn_v", "self_attn.v_proj"},        {"attn_output", "self_attn.o_proj"},
      {"ffn_gate", "mlp.gate_proj"},         {"ffn_up", "mlp.up_proj"},
      {"ffn_down", "mlp.down_proj"},
  };
  const auto it = kParts.find(part);
  if (it == kParts.end()) return {};
  return {h + it->second + "." + kind, part == "attn_q", part == "attn_k"};
}

// metadata -> HF LlamaConfig. Keys follow gguf-py's constants (LLM_KV_*).
json llama_config(const GgufFile& f, const std::string& arch) {
  auto key = [&](const char* suffix) { return arch + "." + suffix; };
  const uint64_t d_model = f.get_uint(key("embedding_length"));
  const uint64_t n_heads = f.get_uint(key("attention.head_count"));
  if (d_model == 0 || n_heads == 0) {
    throw InputError(f.path().string(), "metadata " + in_quotes(d_model == 0 ? key("embedding_length") : key("attention.head_count")),
                     "a positive integer", "0");
  }
  const uint64_t head_dim = f.get_uint(key("attention.key_length"), d_model / n_heads);
  const uint64_t rope_dims = f.get_uint(key("rope.dimension_count"), head_dim);
  if (rope_dims != head_dim) {
    throw InputError(f.path().string(), "metadata " + in_quotes(key("rope.dimension_count")),
                     "the head size " + std::to_string(head_dim) + " (partial rotary is not supported)",
                     std::to_string(rope_dims));
  }
  if (const auto type = f.get_string(key("rope.scaling.type"), "none"); type != "none") {
    throw InputError(f.path().string(), "metadata " + in_quotes(key("rope.scaling.type")), "\"none\"",
                     "\"" + type + "\"", "RoPE scaling in GGUF files is not supported yet");
  }
  const GgufTensorInfo* embed = f.find_tensor("token_embd.weight");
  if (embed == nullptr || embed->ne.size() != 2) {
    throw InputError(f.path().string(), "tensor 'token_embd.weight'", "a 2-D token embedding",
                     embed == nullptr ? "missing" : std::to_string(embed->ne.size()) + " dims");
  }
  json c = {
      {"architectures", {"LlamaForCausalLM"}},
      {"model_type", "llama"},
      {"hidden_size", d_model},
      {"num_hidden_layers", f.get_uint(key("block_count"))},
      {"num_attention_heads", n_heads},
      {"num_key_value_heads", f.get_uint(key("attention.head_count_kv"), n_heads)},
      {"head_dim", head_dim},
      {"intermediate_size", f.get_uint(key("feed_forward_length"))},
      {"max_position_embeddings", f.get_uint(key("context_length"), 2048)},
      {"rms_norm_eps", f.get_float(key("attention.layer_norm_rms_epsilon"), 1e-5)},
      {"rope_theta", f.get_float(key("rope.freq_base"), 10000.0)},
      {"vocab_size", f.get_uint(key("vocab_size"), embed->ne[1])},
      {"hidden_act", "silu"},
      {"tie_word_embeddings", f.find_tensor("output.weight") == nullptr},
      {"attention_bias", f.find_tensor("blk.0.attn_q.bias") != nullptr},
      {"torch_dtype", "float32"},
  };
  for (const auto& [hf, gg] : {std::pair{"bos_token_id", "tokenizer.ggml.bos_token_id"},
                               std::pair{"eos_token_id", "tokenizer.ggml.eos_token_id"}}) {
    if (f.find(gg) != nullptr) c[hf] = f.get_uint(gg);
  }
  if (const GgufValue* name = f.find("general.name"); name != nullptr && name->type == GgufValueType::kString) {
    c["_name_or_path"] = name->s;
  }
  return c;
}

// tokenizer.ggml.pre -> the HF pre-tokenizer that splits text the way the
// merges were learned (llama.cpp llama-vocab.cpp; HF's own tokenizer.json of
// the same models).
json pre_tokenizer(const GgufFile& f) {
  const std::string pre = f.get_string("tokenizer.ggml.pre", "default");
  const json byte_level = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}};
  json raw_byte_level = byte_level;
  raw_byte_level["use_regex"] = false;
  if (pre == "default" || pre == "gpt2" || pre == "gpt-2") return byte_level;
  if (pre == "smollm") {  // SmolLM/SmolLM2: single digits, then GPT-2's split
    return {{"type", "Sequence"},
            {"pretokenizers", {{{"type", "Digits"}, {"individual_digits", true}}, byte_level}}};
  }
  if (pre == "llama3" || pre == "llama-v3" || pre == "llama-bpe") {
    return {{"type", "Sequence"},
            {"pretokenizers",
             {{{"type", "Split"}, {"pattern", {{"Regex", std::string(kLlama3Pattern)}}}, {"behavior", "Isolated"}, {"invert", false}},
              raw_byte_level}}};
  }
  throw InputError(f.path().string(), "metadata 'tokenizer.ggml.pre'", "default, gpt2, smollm or llama3", "\"" + pre + "\"",
                   "this pre-tokenizer is not implemented");
}

// tokenizer.ggml.* (model "gpt2") -> HF tokenizer.json.
json gpt2_tokenizer_json(const GgufFile& f) {
  const auto& tokens = f.get_array("tokenizer.ggml.tokens", GgufValueType::kString);
  const auto& merges = f.get_array("tokenizer.ggml.merges", GgufValueType::kString);
  const GgufValue* types_value = f.find("tokenizer.ggml.token_type");
  const std::vector<GgufValue>* types = nullptr;
  if (types_value != nullptr) {
    types = &f.get_array("tokenizer.ggml.token_type", GgufValueType::kInt32);
    if (types->size() != tokens.size()) {
      throw InputError(f.path().string(), "metadata 'tokenizer.ggml.token_type'",
                       std::to_string(tokens.size()) + " entries (one per token)", std::to_string(types->size()));
    }
  }
  json vocab = json::object();
  json added = json::array();
  for (size_t id = 0; id < tokens.size(); ++id) {
    const std::string& t = tokens[id].s;
    if (vocab.contains(t)) {
      throw InputError(f.path().string(), "metadata 'tokenizer.ggml.tokens[" + std::to_string(id) + "]'",
                       "each token once", "a second " + in_quotes(t));
    }
    vocab[t] = id;
    const int64_t type = types ? (*types)[id].i : 1;
    if (type == kTokenControl || type == kTokenUserDefined) {
      added.push_back({{"id", id}, {"content", t}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
                       {"normalized", type != kTokenControl}, {"special", type == kTokenControl}});
    }
  }
  json merge_list = json::array();
  for (const auto& m : merges) merge_list.push_back(m.s);
  return {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", added},
      {"normalizer", nullptr},
      {"pre_tokenizer", pre_tokenizer(f)},
      {"post_processor", nullptr},
      {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}}},
      {"model",
       {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", nullptr},
        {"end_of_word_suffix", nullptr}, {"fuse_unk", false}, {"byte_fallback", false}, {"ignore_merges", false},
        {"vocab", vocab}, {"merges", merge_list}}},
  };
}

// tokenizer_config.json: whether prompts start with BOS, and the special tokens by text.
json make_tokenizer_config(const GgufFile& f, bool default_add_bos) {
  const auto& tokens = f.get_array("tokenizer.ggml.tokens", GgufValueType::kString);
  json c = {{"add_bos_token", f.get_bool("tokenizer.ggml.add_bos_token", default_add_bos)},
            {"add_eos_token", f.get_bool("tokenizer.ggml.add_eos_token", false)},
            {"tokenizer_class", "PreTrainedTokenizerFast"}};
  for (const auto& [hf, gg] : {std::pair{"bos_token", "tokenizer.ggml.bos_token_id"},
                               std::pair{"eos_token", "tokenizer.ggml.eos_token_id"},
                               std::pair{"unk_token", "tokenizer.ggml.unknown_token_id"},
                               std::pair{"pad_token", "tokenizer.ggml.padding_token_id"}}) {
    if (f.find(gg) == nullptr) continue;
    const uint64_t id = f.get_uint(gg);
    if (id >= tokens.size()) {
      throw InputError(f.path().string(), "metadata " + in_quotes(gg), "a token id below " + std::to_string(tokens.size()),
                       std::to_string(id));
    }
    c[hf] = tokens[id].s;
  }
  if (const GgufValue* t = f.find("tokenizer.chat_template"); t != nullptr && t->type == GgufValueType::kString) {
    c["chat_template"] = t->s;
  }
  return c;
}

// Undoes llama.cpp's convert_hf_to_gguf.py permute() of Q/K rows: GGUF keeps
// each head's rotary pairs interleaved (x0, x1 adjacent), HF keeps the two
// halves apart. Rows of a head go from (pair, 2) order back to (2, pair) order.
at::Tensor unpermute_rope_rows(const at::Tensor& w, int64_t heads) {
  const int64_t rows = w.size(0);
  std::vector<int64_t> shape = {heads, rows / heads / 2, 2};
  for (int64_t d = 1; d < w.dim(); ++d) shape.push_back(w.size(d));
  return w.reshape(shape).transpose(1, 2).reshape(w.sizes()).contiguous();
}

}  // namespace

bool is_gguf_file(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return false;
  if (path.extension() == ".gguf") return true;  // even with a bad magic: the GGUF reader says what is wrong
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  return in.gcount() == 4 && std::memcmp(magic, "GGUF", 4) == 0;
}

GgufCheckpoint GgufCheckpoint::open(const fs::path& path) {
  GgufCheckpoint ck;
  ck.file_ = GgufFile::open(path);
  const GgufFile& f = *ck.file_;
  const std::string where = path.string();
  const std::string arch = f.get_string("general.architecture");
  if (arch == "llama") {
    ck.map_llama_tensors();
  } else if (arch == "gemma3") {
    ck.map_gemma3_tensors();
  } else {
    throw InputError(where, "metadata 'general.architecture'", "\"llama\" or \"gemma3\"", "\"" + arch + "\"",
                     "editgate's runtime maps only Llama- and Gemma 3-architecture GGUF files");
  }

  const std::string tok_model = f.get_string("tokenizer.ggml.model");
  if (tok_model == "gpt2") {
    ck.tokenizer_json_ = gpt2_tokenizer_json(f);
    ck.tokenizer_config_ = make_tokenizer_config(f, /*default_add_bos=*/false);
  } else if (tok_model == "llama" && arch == "gemma3") {
    ck.tokenizer_json_ = gemma_tokenizer_json(f);
    // llama.cpp (and transformers) add BOS to a SentencePiece vocabulary that does not say otherwise.
    ck.tokenizer_config_ = make_tokenizer_config(f, /*default_add_bos=*/true);
  } else {
    throw InputError(where, "metadata 'tokenizer.ggml.model'",
                     arch == "gemma3" ? "\"llama\" (Gemma's SentencePiece vocabulary)" : "\"gpt2\" (byte-level BPE)",
                     "\"" + tok_model + "\"",
                     tok_model == "llama" ? "SentencePiece-style GGUF tokenizers are supported for Gemma 3 only" : "");
  }
  // The BOS/EOS rule goes into tokenizer.json's post_processor, where
  // transformers looks once the checkpoint has a tokenizer.json (it ignores
  // tokenizer_config.json's add_bos_token then): the saved checkpoint
  // tokenizes alike in editgate and transformers.
  auto special = [&](const char* flag, const char* key) -> std::optional<SpecialToken> {
    const json& c = ck.tokenizer_config_;
    if (!c[flag].get<bool>() || !c.contains(key)) return std::nullopt;
    const std::string token = c[key].get<std::string>();
    return SpecialToken{token, ck.tokenizer_json_["model"]["vocab"][token].get<int64_t>()};
  };
  ck.tokenizer_json_["post_processor"] = bos_eos_template(special("add_bos_token", "bos_token"),
                                                          special("add_eos_token", "eos_token"));
  return ck;
}

void GgufCheckpoint::map_llama_tensors() {
  const GgufFile& f = *file_;
  const std::string where = f.path().string();
  config_ = llama_config(f, "llama");
  const int64_t n_heads = config_["num_attention_heads"].get<int64_t>();
  const int64_t n_kv_heads = config_["num_key_value_heads"].get<int64_t>();
  for (const auto& t : f.tensors()) {
    if (t.name == "rope_freqs.weight") {
      throw InputError(where, "tensor 'rope_freqs.weight'", "no RoPE frequency factors", "present",
                       "Llama-3.1-style RoPE scaling in GGUF files is not supported yet");
    }
    const Mapped m = map_llama_name(t.name);
    if (m.name.empty()) {
      throw InputError(where, "tensor " + in_quotes(t.name), "a tensor of a llama model (token_embd, blk.N.attn_q, ...)",
                       "an unknown name");
    }
    Entry e{&t, m.permute_q ? n_heads : m.permute_k ? n_kv_heads : 0};
    if (e.unpermute_heads > 0 && (t.ne.back() % (2 * e.unpermute_heads)) != 0) {
      throw InputError(where, "tensor " + in_quotes(t.name), "rows divisible by 2 x " + std::to_string(e.unpermute_heads) + " heads",
                       std::to_string(t.ne.back()) + " rows");
    }
    names_.push_back(m.name);
    entries_[m.name] = e;
  }
}

void GgufCheckpoint::map_gemma3_tensors() {
  const GgufFile& f = *file_;
  config_ = gemma3_config_from_gguf(f);
  for (const auto& t : f.tensors()) {
    const Gemma3TensorName m = map_gemma3_tensor_name(t.name);
    if (m.hf_name.empty()) {
      throw InputError(f.path().string(), "tensor " + in_quotes(t.name),
                       "a tensor of a gemma3 model (token_embd, blk.N.attn_q, blk.N.post_ffw_norm, ...)", "an unknown name");
    }
    names_.push_back(m.hf_name);
    entries_[m.hf_name] = Entry{&t, 0, m.offset};
  }
}

std::map<std::string, std::string> GgufCheckpoint::companion_files() const {
  return {{"tokenizer.json", tokenizer_json_.dump() + "\n"}, {"tokenizer_config.json", tokenizer_config_.dump(2) + "\n"}};
}

std::unique_ptr<Tokenizer> GgufCheckpoint::tokenizer() const {
  auto tok = load_tokenizer_json_text(tokenizer_json_.dump(), path().string() + " (tokenizer.ggml.*)");
  // The metadata's ids over what the tokenizer.json gives, as load_tokenizer
  // reads a checkpoint saved from this file (tokenizer_config.json over
  // tokenizer.json): both tokenizers then compare equal (tokenizer_diff.h).
  SpecialTokens s = tok->special_tokens();
  for (const auto& [member, key] : {std::pair{&SpecialTokens::bos, "tokenizer.ggml.bos_token_id"},
                                    std::pair{&SpecialTokens::eos, "tokenizer.ggml.eos_token_id"},
                                    std::pair{&SpecialTokens::pad, "tokenizer.ggml.padding_token_id"},
                                    std::pair{&SpecialTokens::unk, "tokenizer.ggml.unknown_token_id"}}) {
    if (file_->find(key) != nullptr) s.*member = static_cast<int64_t>(file_->get_uint(key));  // range-checked at open
  }
  tok->set_special_tokens(s);
  return tok;
}

at::Tensor GgufCheckpoint::tensor(const std::string& hf_name) const {
  const auto it = entries_.find(hf_name);
  if (it == entries_.end()) {
    throw InputError(path().string(), "tensor " + in_quotes(hf_name), "a tensor of this checkpoint", "none");
  }
  at::Tensor t = dequantize_tensor(*file_, *it->second.info);
  if (it->second.unpermute_heads > 0) t = unpermute_rope_rows(t, it->second.unpermute_heads);
  if (it->second.offset != 0.0F) t = t + it->second.offset;
  return t;
}

const std::string& GgufCheckpoint::gguf_name(const std::string& hf_name) const {
  const auto it = entries_.find(hf_name);
  return it == entries_.end() ? hf_name : it->second.info->name;
}

std::map<std::string, int64_t> GgufCheckpoint::stored_types() const {
  std::map<std::string, int64_t> out;
  for (const auto& t : file_->tensors()) out[std::string(find_ggml_type(t.type)->name)] += static_cast<int64_t>(t.numel());
  return out;
}

}  // namespace editgate::harness
