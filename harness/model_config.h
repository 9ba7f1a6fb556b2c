#pragma once
// ModelConfig: the architecture facts editgate needs from a HF `config.json`,
// normalised across model types (GPT-2's n_embd and Llama's hidden_size both
// become d_model). This unit owns parsing and validating config.json; the
// architectures check the tensors against it.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace editgate::harness {

// RoPE frequency scaling: Llama-3's ("rope_type": "llama3") or linear (every
// frequency divided by `factor`, as Gemma 3's global layers use).
struct RopeScaling {
  std::string type;  // "llama3" or "linear" (others are rejected at load)
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 8192;
};

struct ModelConfig {
  std::string model_type;  // "gpt2" | "llama" | "mistral" | "qwen2" | "gptj" | "gpt_neox" | "gemma3_text"
  int64_t n_layers = 0;
  int64_t d_model = 0;
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;  // == n_heads unless grouped-query attention
  int64_t d_head = 0;
  int64_t d_mlp = 0;
  int64_t vocab_size = 0;
  int64_t max_positions = 0;
  double norm_eps = 1e-5;
  bool tie_word_embeddings = true;
  std::string activation;  // "gelu_new" (gpt2, gptj), "gelu" (gpt_neox), "silu" (llama), "gelu_pytorch_tanh" (gemma3)
  // Rotary models (Llama family, gptj, gpt_neox).
  double rope_theta = 10000.0;
  std::optional<RopeScaling> rope_scaling;
  // Leading dimensions of each head that RoPE rotates (GPT-J's rotary_dim, NeoX's
  // rotary_pct * d_head); 0 = the whole head, as Llama does.
  int64_t rotary_dim = 0;
  // GPT-J pairs dimensions (0,1), (2,3), ... for rotation; Llama and NeoX pair i with i + half.
  bool rotary_interleaved = false;
  // GPT-J and NeoX's use_parallel_residual: attention and MLP both read the block's input.
  bool parallel_residual = false;
  bool attention_bias = false;
  bool mlp_bias = false;
  // Gemma 3: some layers attend only to the last `sliding_window` keys (the
  // query's own included) and turn q/k with their own RoPE; the others are
  // global and use rope_theta / rope_scaling above.
  std::vector<bool> sliding_layers;  // per layer; empty when no layer slides
  int64_t sliding_window = 0;
  double sliding_rope_theta = 10000.0;  // rope_local_base_freq
  std::optional<RopeScaling> sliding_rope_scaling;
  // Multiplier of q·k before the softmax; 0 means 1/sqrt(d_head). Gemma 3: query_pre_attn_scalar^-0.5.
  double attention_scale = 0;
  // tanh soft-capping c·tanh(x/c) of the final logits; 0 = none.
  double final_logit_softcap = 0;
  std::optional<int64_t> bos_token_id;
  std::optional<int64_t> eos_token_id;
  nlohmann::json raw;  // the file as read, written back unchanged on save
  std::string source;  // the checkpoint directory it was loaded from ("" when built in memory), for messages

  // Reads and validates `dir/config.json`; InputError naming the field on any problem.
  static ModelConfig load(const std::filesystem::path& dir);
  // Same, from JSON already in memory; `path` is used in messages.
  static ModelConfig from_json(const nlohmann::json& j, const std::string& path);
};

}  // namespace editgate::harness
