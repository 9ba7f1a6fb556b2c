#include "harness/gguf_gemma3.h"

#include <map>
#include <regex>

#include "harness/input_error.h"

namespace editgate::harness {
using nlohmann::json;

namespace {

// llama.cpp's Gemma 3 constants (llama-model.cpp), not stored in the files it writes.
constexpr int64_t kSlidingPattern = 6;         // layers 5, 11, 17, ... are global
constexpr double kSlidingRopeBase = 10'000.0;  // rope_local_base_freq
constexpr int64_t kLayersOf27B = 62;           // the one size whose query scale is d_model / heads

std::string quoted_key(const std::string& key) { return "metadata '" + key + "'"; }

}  // namespace

Gemma3TensorName map_gemma3_tensor_name(const std::string& g) {
  if (g == "token_embd.weight") return {"model.embed_tokens.weight"};
  if (g == "output_norm.weight") return {"model.norm.weight", -1.0F};
  if (g == "output.weight") return {"lm_head.weight"};
  static const std::regex kBlock(R"(blk\.(\d+)\.([a-z_]+)\.weight)");
  std::smatch m;
  if (!std::regex_match(g, m, kBlock)) return {};
  static const std::map<std::string, std::string> kParts = {
      {"attn_norm", "input_layernorm"},
      {"attn_q", "self_attn.q_proj"},
      {"attn_k", "self_attn.k_proj"},
      {"attn_v", "self_attn.v_proj"},
      {"attn_output", "self_attn.o_proj"},
      {"attn_q_norm", "self_attn.q_norm"},
      {"attn_k_norm", "self_attn.k_norm"},
      {"post_attention_norm", "post_attention_layernorm"},
      {"ffn_norm", "pre_feedforward_layernorm"},
      {"post_ffw_norm", "post_feedforward_layernorm"},
      {"ffn_gate", "mlp.gate_proj"},
      {"ffn_up", "mlp.up_proj"},
      {"ffn_down", "mlp.down_proj"},
  };
  const auto it = kParts.find(m[2].str());
  if (it == kParts.end()) return {};
  const bool norm = m[2].str().ends_with("norm");
  return {"model.layers." + m[1].str() + "." + it->second + ".weight", norm ? -1.0F : 0.0F};
}

json gemma3_config_from_gguf(const GgufFile& f) {
  const std::string where = f.path().string();
  auto key = [](const char* suffix) { return std::string("gemma3.") + suffix; };
  const uint64_t d_model = f.get_uint(key("embedding_length"));
  const uint64_t n_heads = f.get_uint(key("attention.head_count"));
  const uint64_t n_layers = f.get_uint(key("block_count"));
  if (d_model == 0 || n_heads == 0 || n_layers == 0) {
    throw InputError(where, quoted_key(key(d_model == 0 ? "embedding_length" : n_heads == 0 ? "attention.head_count" : "block_count")),
                     "a positive integer", "0");
  }
  const uint64_t head_dim = f.get_uint(key("attention.key_length"), 256);
  if (f.get_uint(key("attention.value_length"), head_dim) != head_dim) {
    throw InputError(where, quoted_key(key("attention.value_length")), "the key length " + std::to_string(head_dim),
                     std::to_string(f.get_uint(key("attention.value_length"))));
  }
  const GgufTensorInfo* embed = f.find_tensor("token_embd.weight");
  if (embed == nullptr || embed->ne.size() != 2) {
    throw InputError(where, "tensor 'token_embd.weight'", "a 2-D token embedding",
                     embed == nullptr ? "missing" : std::to_string(embed->ne.size()) + " dims");
  }

  json layer_types = json::array();
  const int64_t pattern = static_cast<int64_t>(f.get_uint(key("attention.sliding_window_pattern"), kSlidingPattern));
  for (int64_t l = 0; l < static_cast<int64_t>(n_layers); ++l) {
    layer_types.push_back(pattern > 0 && (l + 1) % pattern != 0 ? "sliding_attention" : "full_attention");
  }
  json global_rope = {{"rope_type", "default"}, {"rope_theta", f.get_float(key("rope.freq_base"), 1'000'000.0)}};
  if (const auto type = f.get_string(key("rope.scaling.type"), "none"); type == "linear") {
    global_rope["rope_type"] = "linear";
    global_rope["factor"] = f.get_float(key("rope.scaling.factor"));
  } else if (type != "none") {
    throw InputError(where, quoted_key(key("rope.scaling.type")), "\"none\" or \"linear\"", "\"" + type + "\"");
  }
  // llama.cpp scales queries by 1/sqrt(head size), except 27B's 1/sqrt(d_model / heads).
  const uint64_t query_scalar = n_layers == kLayersOf27B ? d_model / n_heads : head_dim;

  json c = {
      {"architectures", {"Gemma3ForCausalLM"}},
      {"model_type", "gemma3_text"},
      {"hidden_size", d_model},
      {"num_hidden_layers", n_layers},
      {"num_attention_heads", n_heads},
      {"num_key_value_heads", f.get_uint(key("attention.head_count_kv"), n_heads)},
      {"head_dim", head_dim},
      {"intermediate_size", f.get_uint(key("feed_forward_length"))},
      {"max_position_embeddings", f.get_uint(key("context_length"), 131072)},
      {"rms_norm_eps", f.get_float(key("attention.layer_norm_rms_epsilon"), 1e-6)},
      {"vocab_size", f.get_uint(key("vocab_size"), embed->ne[1])},
      {"hidden_activation", "gelu_pytorch_tanh"},
      {"query_pre_attn_scalar", query_scalar},
      {"sliding_window", f.get_uint(key("attention.sliding_window"), 4096)},
      {"layer_types", layer_types},
      {"rope_parameters", {{"full_attention", global_rope},
                           {"sliding_attention", {{"rope_type", "default"}, {"rope_theta", kSlidingRopeBase}}}}},
      {"tie_word_embeddings", f.find_tensor("output.weight") == nullptr},
      {"attention_bias", false},
      {"torch_dtype", "float32"},
  };
  for (const char* cap : {"attn_logit_softcapping", "final_logit_softcapping"}) {
    if (f.find(key(cap)) != nullptr) c[cap] = f.get_float(key(cap));
  }
  for (const auto& [hf, gg] : {std::pair{"bos_token_id", "tokenizer.ggml.bos_token_id"},
                               std::pair{"eos_token_id", "tokenizer.ggml.eos_token_id"},
                               std::pair{"pad_token_id", "tokenizer.ggml.padding_token_id"}}) {
    if (f.find(gg) != nullptr) c[hf] = f.get_uint(gg);
  }
  if (const GgufValue* name = f.find("general.name"); name != nullptr && name->type == GgufValueType::kString) {
    c["_name_or_path"] = name->s;
  }
  return c;
}

}  // namespace editgate::harness
