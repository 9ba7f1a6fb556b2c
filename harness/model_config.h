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

namespace editgate::harness {

// Llama-3 style RoPE frequency scaling ("rope_type": "llama3").
struct RopeScaling {
  std::string type;  // "llama3" (others are rejected at load)
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 8192;
};

struct ModelConfig {
  std::string model_type;  // "gpt2" | "llama" | "mistral" | "qwen2" | "gptj" | "gpt_neox"
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
  std::string activation;  // "gelu_new" (gpt2, gptj), "gelu" (gpt_neox) or "silu" (llama)
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
