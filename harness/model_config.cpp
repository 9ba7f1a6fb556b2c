#include "harness/model_config.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include "harness/input_error.h"
#include "harness/json_file.h"

namespace editgate::harness {
namespace {

using nlohmann::json;

class Reader {
 public:
  Reader(const json& j, std::string path) : j_(j), path_(std::move(path)) {}

  int64_t positive_int(const char* key, std::optional<int64_t> fallback = std::nullopt) const {
    if (!j_.contains(key) || j_[key].is_null()) {
      if (fallback) return *fallback;
      throw InputError(path_, key, "a positive integer", "nothing (field missing)");
    }
    const auto& v = j_[key];
    if (!v.is_number_integer() || v.get<int64_t>() <= 0) {
      throw InputError(path_, key, "a positive integer", v.dump());
    }
    return v.get<int64_t>();
  }

  double positive_number(const char* key, double fallback) const {
    if (!j_.contains(key) || j_[key].is_null()) return fallback;
    const auto& v = j_[key];
    if (!v.is_number() || v.get<double>() <= 0) throw InputError(path_, key, "a positive number", v.dump());
    return v.get<double>();
  }

  bool boolean(const char* key, bool fallback) const {
    if (!j_.contains(key) || j_[key].is_null()) return fallback;
    if (!j_[key].is_boolean()) throw InputError(path_, key, "true or false", j_[key].dump());
    return j_[key].get<bool>();
  }

  std::string string(const char* key, const std::string& fallback) const {
    if (!j_.contains(key) || j_[key].is_null()) return fallback;
    if (!j_[key].is_string()) throw InputError(path_, key, "a string", j_[key].dump());
    return j_[key].get<std::string>();
  }

  std::optional<int64_t> token_id(const char* key) const {
    if (!j_.contains(key) || j_[key].is_null()) return std::nullopt;
    const auto& v = j_[key];
    if (v.is_array() && !v.empty() && v[0].is_number_integer()) return v[0].get<int64_t>();  // Llama-3.1: list
    if (!v.is_number_integer() || v.get<int64_t>() < 0) {
      throw InputError(path_, key, "a token id (non-negative integer)", v.dump());
    }
    return v.get<int64_t>();
  }

 private:
  const json& j_;
  std::string path_;
};

void load_gpt2(const Reader& r, ModelConfig& c, const json& j, const std::string& path) {
  c.d_model = r.positive_int("n_embd");
  c.n_layers = r.positive_int("n_layer");
  c.n_heads = r.positive_int("n_head");
  c.n_kv_heads = c.n_heads;
  c.d_mlp = r.positive_int("n_inner", 4 * c.d_model);
  c.max_positions = r.positive_int("n_positions");
  c.norm_eps = r.positive_number("layer_norm_epsilon", 1e-5);
  c.tie_word_embeddings = r.boolean("tie_word_embeddings", true);
  c.activation = r.string("activation_function", "gelu_new");
  if (c.activation != "gelu_new" && c.activation != "gelu_pytorch_tanh" && c.activation != "gelu") {
    throw InputError(path, "activation_function", "gelu_new, gelu_pytorch_tanh or gelu", c.activation);
  }
  // Variants editgate does not implement: refuse rather than compute something else.
  if (r.boolean("scale_attn_by_inverse_layer_idx", false)) {
    throw InputError(path, "scale_attn_by_inverse_layer_idx", "false (not supported)", "true");
  }
  if (!r.boolean("scale_attn_weights", true)) {
    throw InputError(path, "scale_attn_weights", "true (not supported otherwise)", "false");
  }
  if (c.d_model % c.n_heads != 0) {
    throw InputError(path, "n_head", "a divisor of n_embd=" + std::to_string(c.d_model),
                     std::to_string(c.n_heads));
  }
  c.d_head = c.d_model / c.n_heads;
  (void)j;
}

// The frequency scaling one RoPE settings object asks for: none for "default",
// Llama-3's or linear scaling otherwise.
std::optional<RopeScaling> read_rope_scaling(const json& rope, const std::string& path) {
  const Reader rr(rope, path);
  const std::string type = rr.string("rope_type", rr.string("type", "default"));
  if (type == "default") return std::nullopt;
  if (type != "llama3" && type != "linear") {
    throw InputError(path, "rope_type", "\"default\", \"linear\" or \"llama3\"", "\"" + type + "\"");
  }
  RopeScaling s;
  s.type = type;
  s.factor = rr.positive_number("factor", 1.0);
  if (type == "linear") return s;
  s.low_freq_factor = rr.positive_number("low_freq_factor", 1.0);
  s.high_freq_factor = rr.positive_number("high_freq_factor", 4.0);
  s.original_max_position_embeddings = rr.positive_int("original_max_position_embeddings", 8192);
  if (s.high_freq_factor <= s.low_freq_factor) {
    throw InputError(path, "high_freq_factor", "greater than low_freq_factor", std::to_string(s.high_freq_factor));
  }
  return s;
}

void load_rope(const Reader& r, ModelConfig& c, const json& j, const std::string& path) {
  c.rope_theta = r.positive_number("rope_theta", c.rope_theta);
  // transformers >= 5 nests RoPE settings in rope_parameters; older files use rope_scaling.
  const json* rope = nullptr;
  for (const char* key : {"rope_parameters", "rope_scaling"}) {
    if (j.contains(key) && !j[key].is_null()) {
      if (!j[key].is_object()) throw InputError(path, key, "an object", j[key].dump());
      rope = &j[key];
      break;
    }
  }
  if (rope == nullptr) return;
  c.rope_theta = Reader(*rope, path).positive_number("rope_theta", c.rope_theta);
  c.rope_scaling = read_rope_scaling(*rope, path);
}

void load_llama(const Reader& r, ModelConfig& c, const json& j, const std::string& path) {
  c.d_model = r.positive_int("hidden_size");
  c.n_layers = r.positive_int("num_hidden_layers");
  c.n_heads = r.positive_int("num_attention_heads");
  c.n_kv_heads = r.positive_int("num_key_value_heads", c.n_heads);
  c.d_mlp = r.positive_int("intermediate_size");
  c.max_positions = r.positive_int("max_position_embeddings", 2048);
  c.norm_eps = r.positive_number("rms_norm_eps", 1e-6);
  c.tie_word_embeddings = r.boolean("tie_word_embeddings", false);
  c.activation = r.string("hidden_act", "silu");
  if (c.activation != "silu") throw InputError(path, "hidden_act", "\"silu\"", "\"" + c.activation + "\"");
  c.attention_bias = r.boolean("attention_bias", false);
  c.mlp_bias = r.boolean("mlp_bias", false);
  if (c.n_heads % c.n_kv_heads != 0) {
    throw InputError(path, "num_key_value_heads",
                     "a divisor of num_attention_heads=" + std::to_string(c.n_heads), std::to_string(c.n_kv_heads));
  }
  if (!j.contains("head_dim") && c.d_model % c.n_heads != 0) {
    throw InputError(path, "num_attention_heads", "a divisor of hidden_size=" + std::to_string(c.d_model),
                     std::to_string(c.n_heads));
  }
  c.d_head = r.positive_int("head_dim", c.d_model / c.n_heads);
  if (c.d_head % 2 != 0) throw InputError(path, "head_dim", "an even number (RoPE)", std::to_string(c.d_head));
  load_rope(r, c, j, path);
}

// GPT-J: parallel attention and MLP off one LayerNorm, rotary on the first
// rotary_dim dimensions of each head with interleaved pairs, base 10000.
void load_gptj(const Reader& r, ModelConfig& c, const std::string& path) {
  c.d_model = r.positive_int("n_embd");
  c.n_layers = r.positive_int("n_layer");
  c.n_heads = r.positive_int("n_head");
  c.n_kv_heads = c.n_heads;
  c.d_mlp = r.positive_int("n_inner", 4 * c.d_model);
  c.max_positions = r.positive_int("n_positions", 2048);
  c.norm_eps = r.positive_number("layer_norm_epsilon", 1e-5);
  c.tie_word_embeddings = r.boolean("tie_word_embeddings", false);
  c.activation = r.string("activation_function", "gelu_new");
  if (c.activation != "gelu_new" && c.activation != "gelu_pytorch_tanh" && c.activation != "gelu") {
    throw InputError(path, "activation_function", "gelu_new, gelu_pytorch_tanh or gelu", c.activation);
  }
  if (c.d_model % c.n_heads != 0) {
    throw InputError(path, "n_head", "a divisor of n_embd=" + std::to_string(c.d_model), std::to_string(c.n_heads));
  }
  c.d_head = c.d_model / c.n_heads;
  // transformers' default is 64; a null rotary_dim breaks its own model, so it is read as the default too.
  c.rotary_dim = r.positive_int("rotary_dim", 64);
  if (c.rotary_dim > c.d_head || c.rotary_dim % 2 != 0) {
    throw InputError(path, "rotary_dim", "an even number <= the head size " + std::to_string(c.d_head),
                     std::to_string(c.rotary_dim));
  }
  c.rotary_interleaved = true;
  c.parallel_residual = true;
}

// GPT-NeoX / Pythia: fused per-head QKV, rotary on rotary_pct of each head
// (rotate-half pairing), parallel or sequential residual, untied embed_out.
void load_gpt_neox(const Reader& r, ModelConfig& c, const json& j, const std::string& path) {
  c.d_model = r.positive_int("hidden_size");
  c.n_layers = r.positive_int("num_hidden_layers");
  c.n_heads = r.positive_int("num_attention_heads");
  c.n_kv_heads = c.n_heads;
  c.d_mlp = r.positive_int("intermediate_size");
  c.max_positions = r.positive_int("max_position_embeddings", 2048);
  c.norm_eps = r.positive_number("layer_norm_eps", 1e-5);
  c.tie_word_embeddings = r.boolean("tie_word_embeddings", false);
  c.activation = r.string("hidden_act", "gelu");
  if (c.activation != "gelu" && c.activation != "gelu_new" && c.activation != "gelu_pytorch_tanh") {
    throw InputError(path, "hidden_act", "gelu, gelu_new or gelu_pytorch_tanh", "\"" + c.activation + "\"");
  }
  c.attention_bias = r.boolean("attention_bias", true);
  c.mlp_bias = true;
  c.parallel_residual = r.boolean("use_parallel_residual", true);
  if (c.d_model % c.n_heads != 0) {
    throw InputError(path, "num_attention_heads", "a divisor of hidden_size=" + std::to_string(c.d_model),
                     std::to_string(c.n_heads));
  }
  c.d_head = c.d_model / c.n_heads;
  // Original files say rotary_emb_base / rotary_pct; transformers >= 5 writes rope_parameters.
  c.rope_theta = r.positive_number("rotary_emb_base", 10000.0);
  load_rope(r, c, j, path);
  if (c.rope_scaling) throw InputError(path, "rope_type", "\"default\" for gpt_neox", "\"" + c.rope_scaling->type + "\"");
  double pct = r.positive_number("rotary_pct", 0.25);
  if (j.contains("rope_parameters") && j["rope_parameters"].is_object()) {
    pct = Reader(j["rope_parameters"], path).positive_number("partial_rotary_factor", pct);
  }
  c.rotary_dim = static_cast<int64_t>(static_cast<double>(c.d_head) * pct);  // int() as transformers truncates
  if (pct > 1.0 || c.rotary_dim < 2 || c.rotary_dim % 2 != 0) {
    throw InputError(path, "rotary_pct", "a fraction of the head size " + std::to_string(c.d_head) +
                                             " giving an even number of rotary dimensions",
                     std::to_string(pct) + " (" + std::to_string(c.rotary_dim) + " dimensions)");
  }
}

// Gemma 3 text (Gemma3TextConfig): transformers' defaults where a field is
// missing. Layers slide (attend within sliding_window) or are global, by
// layer_types or, in older files, every sliding_window_pattern-th layer global.
// Each kind has its own RoPE: rope_parameters.{sliding,full}_attention in
// transformers >= 5, rope_local_base_freq / rope_theta / rope_scaling before.
void load_gemma3(const Reader& r, ModelConfig& c, const json& j, const std::string& path) {
  c.d_model = r.positive_int("hidden_size");
  c.n_layers = r.positive_int("num_hidden_layers");
  c.n_heads = r.positive_int("num_attention_heads");
  c.n_kv_heads = r.positive_int("num_key_value_heads", 4);
  c.d_head = r.positive_int("head_dim", 256);
  c.d_mlp = r.positive_int("intermediate_size");
  c.max_positions = r.positive_int("max_position_embeddings", 131072);
  c.norm_eps = r.positive_number("rms_norm_eps", 1e-6);
  c.tie_word_embeddings = r.boolean("tie_word_embeddings", true);
  c.attention_bias = r.boolean("attention_bias", false);
  c.activation = r.string("hidden_activation", r.string("hidden_act", "gelu_pytorch_tanh"));
  if (c.activation != "gelu_pytorch_tanh" && c.activation != "gelu_new" && c.activation != "gelu") {
    throw InputError(path, "hidden_activation", "gelu_pytorch_tanh, gelu_new or gelu", "\"" + c.activation + "\"");
  }
  if (c.n_heads % c.n_kv_heads != 0) {
    throw InputError(path, "num_key_value_heads", "a divisor of num_attention_heads=" + std::to_string(c.n_heads),
                     std::to_string(c.n_kv_heads));
  }
  if (c.d_head % 2 != 0) throw InputError(path, "head_dim", "an even number (RoPE)", std::to_string(c.d_head));
  if (r.boolean("use_bidirectional_attention", false)) {
    throw InputError(path, "use_bidirectional_attention", "false (causal language models only)", "true");
  }
  c.attention_scale = 1.0 / std::sqrt(r.positive_number("query_pre_attn_scalar", 256.0));
  // attn_logit_softcapping is read for validity and not applied: transformers'
  // Gemma 3 attention never passes it on (5.23), nor does llama.cpp's, and the
  // released Gemma 3 configs leave it null (Gemma 2 used it; Gemma 3 has q/k norms).
  (void)r.positive_number("attn_logit_softcapping", 0.0);
  c.final_logit_softcap = r.positive_number("final_logit_softcapping", 0.0);

  if (j.contains("layer_types") && !j["layer_types"].is_null()) {
    const auto& types = j["layer_types"];
    if (!types.is_array() || static_cast<int64_t>(types.size()) != c.n_layers) {
      throw InputError(path, "layer_types", "a list of " + std::to_string(c.n_layers) + " layer kinds", types.dump());
    }
    for (size_t l = 0; l < types.size(); ++l) {
      const json& t = types[l];
      if (t != "sliding_attention" && t != "full_attention") {
        throw InputError(path, "layer_types[" + std::to_string(l) + "]", "\"sliding_attention\" or \"full_attention\"",
                         t.dump());
      }
      c.sliding_layers.push_back(t == "sliding_attention");
    }
  } else {
    const int64_t pattern = r.positive_int("sliding_window_pattern", 6);
    for (int64_t l = 0; l < c.n_layers; ++l) c.sliding_layers.push_back((l + 1) % pattern != 0);
  }
  c.sliding_window = r.positive_int("sliding_window", 4096);

  // The global layers' RoPE goes into rope_theta / rope_scaling, the sliding ones' beside it.
  c.rope_theta = r.positive_number("rope_theta", 1'000'000.0);
  c.sliding_rope_theta = r.positive_number("rope_local_base_freq", 10'000.0);
  const json* per_type = nullptr;
  if (j.contains("rope_parameters") && !j["rope_parameters"].is_null()) {
    if (!j["rope_parameters"].is_object()) throw InputError(path, "rope_parameters", "an object", j["rope_parameters"].dump());
    per_type = &j["rope_parameters"];
  }
  const auto read_kind = [&](const char* kind, double& theta, std::optional<RopeScaling>& scaling) {
    if (per_type == nullptr || !per_type->contains(kind) || (*per_type)[kind].is_null()) return;
    const json& rope = (*per_type)[kind];
    const std::string where = path + " rope_parameters." + kind;
    if (!rope.is_object()) throw InputError(where, "", "an object", rope.dump());
    theta = Reader(rope, where).positive_number("rope_theta", theta);
    scaling = read_rope_scaling(rope, where);
  };
  read_kind("full_attention", c.rope_theta, c.rope_scaling);
  read_kind("sliding_attention", c.sliding_rope_theta, c.sliding_rope_scaling);
  if (j.contains("rope_scaling") && !j["rope_scaling"].is_null()) {  // pre-5 files: the global layers' scaling
    if (!j["rope_scaling"].is_object()) throw InputError(path, "rope_scaling", "an object", j["rope_scaling"].dump());
    if (!c.rope_scaling) c.rope_scaling = read_rope_scaling(j["rope_scaling"], path);
  }
}

}  // namespace

ModelConfig ModelConfig::from_json(const nlohmann::json& j, const std::string& path) {
  if (!j.is_object()) throw InputError(path, "", "a JSON object", j.type_name());
  const Reader r(j, path);
  ModelConfig c;
  c.raw = j;
  if (!j.contains("model_type")) {
    throw InputError(path, "model_type", "one of gpt2, llama, mistral, qwen2, gptj, gpt_neox, gemma3_text",
                     "nothing (field missing)");
  }
  c.model_type = r.string("model_type", "");
  if (c.model_type == "gpt2") {
    load_gpt2(r, c, j, path);
  } else if (c.model_type == "llama" || c.model_type == "mistral" || c.model_type == "qwen2") {
    load_llama(r, c, j, path);
    if (c.model_type == "qwen2" && !j.contains("attention_bias")) c.attention_bias = true;
  } else if (c.model_type == "gptj") {
    load_gptj(r, c, path);
  } else if (c.model_type == "gpt_neox") {
    load_gpt_neox(r, c, j, path);
  } else if (c.model_type == "gemma3_text") {
    load_gemma3(r, c, j, path);
  } else {
    throw InputError(path, "model_type", "one of gpt2, llama, mistral, qwen2, gptj, gpt_neox, gemma3_text",
                     "\"" + c.model_type + "\"", "other architectures are not supported yet");
  }
  c.vocab_size = r.positive_int("vocab_size");
  c.bos_token_id = r.token_id("bos_token_id");
  c.eos_token_id = r.token_id("eos_token_id");
  return c;
}

ModelConfig ModelConfig::load(const std::filesystem::path& dir) {
  const auto path = dir / "config.json";
  std::ifstream in(path);
  if (!in) {
    throw InputError(path.string(), "", "a readable config.json", "no such file",
                     "is " + dir.string() + " a Hugging Face checkpoint directory?");
  }
  auto c = from_json(read_json_file(path, "a readable config.json"), path.string());
  c.source = dir.string();
  return c;
}

}  // namespace editgate::harness
