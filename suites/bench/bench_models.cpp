#include "suites/bench/bench_models.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include "harness/checkpoint.h"
#include "harness/gpu_timing.h"
#include "harness/tokenizer.h"
#include "harness/wordlevel_tokenizer.h"
#include "suites/bench/device_peak.h"

namespace editgate::bench {

namespace fs = std::filesystem;

namespace {

// "<bos>", "w1", ... "w<vocab-2>", then "<unk>": `vocab` ids in all.
std::string bench_tokenizer_json(int64_t vocab) {
  std::vector<std::string> words = {"<bos>"};
  for (int64_t i = 1; i < vocab - 1; ++i) words.push_back("w" + std::to_string(i));
  return harness::wordlevel_tokenizer_json(words, "<unk>", {"<bos>"});
}

// The config.json a LlamaForCausalLM of `s` would carry (Llama-3's rope_theta, no rope scaling).
harness::ModelConfig llama_config(const LlamaShape& s) {
  const nlohmann::json j = {
      {"architectures", {"LlamaForCausalLM"}},
      {"model_type", "llama"},
      {"hidden_size", s.d_model},
      {"num_hidden_layers", s.n_layer},
      {"num_attention_heads", s.n_head},
      {"num_key_value_heads", s.n_kv_head},
      {"intermediate_size", s.d_mlp},
      {"max_position_embeddings", s.n_positions},
      {"vocab_size", s.vocab_size},
      {"rms_norm_eps", 1e-5},
      {"hidden_act", "silu"},
      {"rope_theta", 500000.0},
      {"tie_word_embeddings", false},
      {"bos_token_id", 0},
      {"eos_token_id", 0},
      {"torch_dtype", "float32"},
  };
  return harness::ModelConfig::from_json(j, "<bench llama_config>");
}

// The config.json GPTJForCausalLM / GPTNeoXForCausalLM (Pythia's settings) of `s` would carry.
harness::ModelConfig parallel_config(const ParallelShape& s) {
  nlohmann::json j = {{"model_type", s.model_type}, {"vocab_size", s.vocab_size}, {"tie_word_embeddings", false},
                      {"bos_token_id", 0},          {"eos_token_id", 0}};
  if (s.model_type == "gptj") {
    j.update({{"n_embd", s.d_model}, {"n_layer", s.n_layer}, {"n_head", s.n_head}, {"n_inner", s.d_mlp},
              {"n_positions", s.n_positions}, {"rotary_dim", s.rotary_dim}, {"activation_function", "gelu_new"}});
  } else {
    j.update({{"hidden_size", s.d_model}, {"num_hidden_layers", s.n_layer}, {"num_attention_heads", s.n_head},
              {"intermediate_size", s.d_mlp}, {"max_position_embeddings", s.n_positions}, {"hidden_act", "gelu"},
              {"rotary_pct", static_cast<double>(s.rotary_dim * s.n_head) / static_cast<double>(s.d_model)},
              {"use_parallel_residual", true}});
  }
  return harness::ModelConfig::from_json(j, "<bench parallel_config>");
}

// The config.json a Gemma3ForCausalLM of `s` would carry (gemma-3-1b-pt's RoPE bases and
// query_pre_attn_scalar = d_head, as its 256 is; layer kinds from sliding_window_pattern).
harness::ModelConfig gemma3_config(const Gemma3Shape& s) {
  const nlohmann::json j = {
      {"model_type", "gemma3_text"},
      {"hidden_size", s.d_model},
      {"num_hidden_layers", s.n_layer},
      {"num_attention_heads", s.n_head},
      {"num_key_value_heads", s.n_kv_head},
      {"head_dim", s.d_head},
      {"intermediate_size", s.d_mlp},
      {"sliding_window", s.sliding_window},
      {"sliding_window_pattern", s.sliding_pattern},
      {"max_position_embeddings", s.n_positions},
      {"vocab_size", s.vocab_size},
      {"rms_norm_eps", 1e-6},
      {"hidden_activation", "gelu_pytorch_tanh"},
      {"rope_theta", 1'000'000.0},
      {"rope_local_base_freq", 10'000.0},
      {"query_pre_attn_scalar", s.d_head},
      {"tie_word_embeddings", true},
      {"bos_token_id", 0},
      {"eos_token_id", 0},
  };
  return harness::ModelConfig::from_json(j, "<bench gemma3_config>");
}

// Random weights for every tensor `config`'s architecture expects (the list from the
// architecture itself, as fixtures::init_gpt2 does), drawn on the device (billions of
// normals on one CPU thread would take minutes). HF's init: normal 0.02, norm weights 1
// (Gemma's 0: its norms scale by 1 + weight), biases 0. A tied unembedding is left out:
// it is the embedding, and a copy would be counted as parameters the model lacks.
std::map<std::string, at::Tensor> random_parameters(const harness::ModelConfig& config, at::Device device) {
  at::manual_seed(0);
  const auto opts = at::TensorOptions().dtype(at::kFloat).device(device);
  const double norm_init = config.model_type == "gemma3_text" ? 0.0 : 1.0;
  const auto probe = harness::make_transformer(config, {}, at::kCPU);
  std::map<std::string, at::Tensor> params;
  for (const auto& [name, dims] : probe->expected_tensors()) {
    if (probe->is_optional_tensor(name)) continue;
    if (dims.size() == 1) {
      const bool norm_weight = name.ends_with(".weight");  // the only 1-d weights are norms'
      params[name] = norm_weight ? at::full(dims, norm_init, opts) : at::zeros(dims, opts);
    } else {
      params[name] = at::randn(dims, opts) * 0.02;
    }
  }
  return params;
}

// A model of `config` with random weights and the bench tokenizer, drawn on the bench device.
std::unique_ptr<harness::TextModel> in_memory_model(const harness::ModelConfig& config) {
  c10::NoGradGuard ng;
  const auto device = bench_device();
  return std::make_unique<harness::TextModel>(harness::TextModel::from_memory(
      harness::make_transformer(config, random_parameters(config, device), device),
      harness::load_tokenizer_json_text(bench_tokenizer_json(config.vocab_size), "<bench tokenizer>")));
}

// Matrices of a Llama-layout decoder (Llama's, Gemma 3's): q and o of `q_width`, k and v of
// `kv_width` (grouped-query attention), a gated MLP's three matrices, and the unembedding.
double decoder_matmul_weights(int64_t n_layer, int64_t d_model, int64_t q_width, int64_t kv_width, int64_t d_mlp,
                              int64_t vocab) {
  const double d = static_cast<double>(d_model);
  const double q_o = 2.0 * d * static_cast<double>(q_width);
  const double k_v = 2.0 * d * static_cast<double>(kv_width);
  const double mlp = 3.0 * d * static_cast<double>(d_mlp);  // gate_proj, up_proj, down_proj
  return static_cast<double>(n_layer) * (q_o + k_v + mlp) + d * static_cast<double>(vocab);
}

// Attention FLOPs per token of a `seq`-token sequence: q·k and p·v over full rows of every query head.
double attention_flops(int64_t n_layer, int64_t query_width, int64_t seq) {
  return static_cast<double>(n_layer) * 2.0 * 2.0 * static_cast<double>(seq) * static_cast<double>(query_width);
}

// What shape_arithmetic_error compares: the model's own tensors.
std::string tensor_count_error(double params, double matmul, const harness::Transformer& model) {
  double n = 0, w = 0;
  const auto& p = model.parameters();
  for (const auto& [name, t] : p) {
    n += static_cast<double>(t.numel());
    // Embedding lookups multiply nothing: GPT-2's wpe always, the token embedding when the unembedding is separate.
    const bool untied = !model.config().tie_word_embeddings;
    const bool lookup = name.find("wpe") != std::string::npos || (untied && name == model.token_embedding_name());
    if (t.dim() == 2 && !lookup) w += static_cast<double>(t.numel());
  }
  if (n != params) return fmt::format("parameter_count {} != {} parameters in the model", params, n);
  if (w != matmul) return fmt::format("matmul_weights {} != {} in the model's matrices", matmul, w);
  return "";
}

}  // namespace

harness::TextModel& bench_model(const fixtures::Gpt2Shape& shape) {
  static std::map<int64_t, std::unique_ptr<harness::TextModel>> models;
  auto& slot = models[shape.d_model * 1000 + shape.n_layer];
  if (slot) return *slot;
  const fs::path dir = fs::temp_directory_path() / ("editgate_bench_gpt2_" + std::to_string(shape.n_layer) + "x" +
                                                    std::to_string(shape.d_model));
  if (!fs::exists(dir / "tokenizer.json")) {
    c10::NoGradGuard ng;
    const auto model = fixtures::init_gpt2(shape, 0, at::kCPU);
    const fs::path empty = dir.string() + ".src";
    fs::create_directories(empty);
    harness::save_model(*model, dir, empty);
    // tokenizer.json last: its presence marks a complete model directory.
    std::ofstream(dir / "tokenizer.json") << bench_tokenizer_json(shape.vocab_size);
  }
  harness::LoadOptions o;
  o.device = bench_device().str();
  slot = std::make_unique<harness::TextModel>(harness::TextModel::load(dir, o));
  return *slot;
}

harness::TextModel& bench_model(const ParallelShape& shape) {
  static std::map<std::string, std::unique_ptr<harness::TextModel>> models;
  auto& slot = models[shape.model_type + std::to_string(shape.d_model) + "x" + std::to_string(shape.n_layer)];
  if (!slot) slot = in_memory_model(parallel_config(shape));
  return *slot;
}

harness::TextModel& bench_model(const LlamaShape& shape) {
  static std::map<int64_t, std::unique_ptr<harness::TextModel>> models;
  auto& slot = models[shape.d_model * 1000 + shape.n_layer];
  if (!slot) slot = in_memory_model(llama_config(shape));
  return *slot;
}

harness::TextModel& bench_model(const Gemma3Shape& shape) {
  static std::map<int64_t, std::unique_ptr<harness::TextModel>> models;
  auto& slot = models[shape.d_model * 1000 + shape.n_layer];
  if (!slot) slot = in_memory_model(gemma3_config(shape));
  return *slot;
}

double parameter_count(const fixtures::Gpt2Shape& s) {
  const double d = static_cast<double>(s.d_model);
  return s.n_layer * (12 * d * d + 13 * d) + d * (s.vocab_size + s.n_positions) + 2 * d;
}

double parameter_count(const LlamaShape& s) {
  const double d = static_cast<double>(s.d_model);
  // Matrices (lm_head included) + embed_tokens + two RMSNorms per layer + the final norm.
  return matmul_weights(s) + d * static_cast<double>(s.vocab_size) + (2.0 * static_cast<double>(s.n_layer) + 1) * d;
}

double parameter_count(const ParallelShape& s) {
  const double d = static_cast<double>(s.d_model), v = static_cast<double>(s.vocab_size);
  const double mlp_biases = static_cast<double>(s.d_mlp) + d;
  // GPT-J: one LayerNorm, bias-free attention, a biased lm_head. NeoX: two LayerNorms, biased qkv and dense.
  const double per_layer = s.model_type == "gptj" ? 2 * d + mlp_biases : 4 * d + 4 * d + mlp_biases;
  const double head_bias = s.model_type == "gptj" ? v : 0;
  return matmul_weights(s) + static_cast<double>(s.n_layer) * per_layer + d * v + 2 * d + head_bias;
}

double parameter_count(const Gemma3Shape& s) {
  const double d = static_cast<double>(s.d_model);
  // Matrices (the tied embedding as the unembedding) + four RMSNorms and q/k norms per layer + the final norm.
  const double norms = 4.0 * d + 2.0 * static_cast<double>(s.d_head);
  return matmul_weights(s) + static_cast<double>(s.n_layer) * norms + d;
}

double matmul_weights(const fixtures::Gpt2Shape& s) {
  const double d = static_cast<double>(s.d_model);
  return s.n_layer * (3 * d * d + d * d + 2 * 4 * d * d) + d * static_cast<double>(s.vocab_size);
}

double matmul_weights(const LlamaShape& s) {
  const int64_t head = s.d_model / s.n_head;
  return decoder_matmul_weights(s.n_layer, s.d_model, s.d_model, head * s.n_kv_head, s.d_mlp, s.vocab_size);
}

double matmul_weights(const Gemma3Shape& s) {
  return decoder_matmul_weights(s.n_layer, s.d_model, s.n_head * s.d_head, s.n_kv_head * s.d_head, s.d_mlp,
                                s.vocab_size);
}

double matmul_weights(const ParallelShape& s) {
  const double d = static_cast<double>(s.d_model);
  // q, k, v and out (fused or not) + the two MLP matrices per layer, and the unembedding.
  return static_cast<double>(s.n_layer) * (4 * d * d + 2 * d * static_cast<double>(s.d_mlp)) +
         d * static_cast<double>(s.vocab_size);
}

double forward_flops(const fixtures::Gpt2Shape& s, int64_t seq) {
  return static_cast<double>(seq) * (2.0 * matmul_weights(s) + attention_flops(s.n_layer, s.d_model, seq));
}

double forward_flops(const LlamaShape& s, int64_t seq) {
  return static_cast<double>(seq) * (2.0 * matmul_weights(s) + attention_flops(s.n_layer, s.d_model, seq));
}

double forward_flops(const ParallelShape& s, int64_t seq) {
  return static_cast<double>(seq) * (2.0 * matmul_weights(s) + attention_flops(s.n_layer, s.d_model, seq));
}

double forward_flops(const Gemma3Shape& s, int64_t seq) {
  return static_cast<double>(seq) * (2.0 * matmul_weights(s) + attention_flops(s.n_layer, s.n_head * s.d_head, seq));
}

std::string shape_arithmetic_error(const ParallelShape& shape, const harness::Transformer& model) {
  if (parameter_count(kPythia1_4bShape) != kPythia1_4bParameters) {
    return fmt::format("parameter_count(Pythia-1.4B) {} != {}", parameter_count(kPythia1_4bShape), kPythia1_4bParameters);
  }
  return tensor_count_error(parameter_count(shape), matmul_weights(shape), model);
}

std::string shape_arithmetic_error(const fixtures::Gpt2Shape& shape, const harness::Transformer& model) {
  return tensor_count_error(parameter_count(shape), matmul_weights(shape), model);
}

std::string shape_arithmetic_error(const LlamaShape& shape, const harness::Transformer& model) {
  if (parameter_count(kLlama3_8bShape) != kLlama3_8bParameters) {
    return fmt::format("parameter_count(Llama-3-8B) {} != {}", parameter_count(kLlama3_8bShape), kLlama3_8bParameters);
  }
  return tensor_count_error(parameter_count(shape), matmul_weights(shape), model);
}

std::string shape_arithmetic_error(const Gemma3Shape& shape, const harness::Transformer& model) {
  if (parameter_count(kGemma3_1bShape) != kGemma3_1bParameters) {
    return fmt::format("parameter_count(Gemma 3 1B) {} != {}", parameter_count(kGemma3_1bShape), kGemma3_1bParameters);
  }
  return tensor_count_error(parameter_count(shape), matmul_weights(shape), model);
}

namespace {

// `copies` x the fp32 weights fit the device's memory (CPU: EDITGATE_BENCH_LARGE=1).
bool fits(double parameters, double copies) {
  if (!bench_device().is_cuda()) {
    const char* env = std::getenv("EDITGATE_BENCH_LARGE");
    return env != nullptr && std::string(env) == "1";
  }
  return copies * 4.0 * parameters < static_cast<double>(harness::gpu_total_memory_bytes());
}

}  // namespace

bool large_shape_fits(const fixtures::Gpt2Shape& shape) { return fits(parameter_count(shape), 3.0); }

// Two copies, not three: for 8B that is 64 GB (an H100's 80 GB holds it; three, 96 GB, would
// need an H200). The Llama benchmarks need far less beyond the weights: the largest is
// scoring 32 x 256, whose logits and log-probs over 128256 words are 4.2 GB each.
bool large_shape_fits(const LlamaShape& shape) { return fits(parameter_count(shape), 2.0); }

// Two copies, as Llama's: GPT-J 6B in fp32 is 24 GB.
bool large_shape_fits(const ParallelShape& shape) { return fits(parameter_count(shape), 2.0); }

// Two copies as Llama's, of the weights and of BM_ScoreBatch's largest logits: the
// 262,144-word vocabulary makes 32 x 256 tokens' logits (and log-probs) 8.6 GB, more than
// Gemma 3 1B's 4 GB of weights.
bool large_shape_fits(const Gemma3Shape& shape) {
  const double logits = 32.0 * 256.0 * static_cast<double>(shape.vocab_size);
  return fits(parameter_count(shape) + logits, 2.0);
}

std::string bench_word(int64_t i, int64_t vocab) { return "w" + std::to_string(1 + i % (vocab - 3)); }

}  // namespace editgate::bench
