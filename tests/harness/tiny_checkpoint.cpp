#include "tests/harness/tiny_checkpoint.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <fstream>

#include "harness/weight_store.h"
#include "harness/remove_tree.h"

namespace editgate::testing {
namespace fs = std::filesystem;

nlohmann::json tiny_config(const TinySpec& s) {
  nlohmann::json j;
  j["model_type"] = s.model_type;
  j["vocab_size"] = s.vocab;
  j["tie_word_embeddings"] = s.tied;
  if (s.model_type == "gpt2") {
    j["architectures"] = {"GPT2LMHeadModel"};
    j["n_embd"] = s.d_model;
    j["n_layer"] = s.n_layers;
    j["n_head"] = s.n_heads;
    j["n_inner"] = s.d_mlp;
    j["n_positions"] = s.max_positions;
    j["layer_norm_epsilon"] = 1e-5;
    j["activation_function"] = "gelu_new";
    return j;
  }
  if (s.model_type == "gptj") {
    j["architectures"] = {"GPTJForCausalLM"};
    j["n_embd"] = s.d_model;
    j["n_layer"] = s.n_layers;
    j["n_head"] = s.n_heads;
    j["n_inner"] = s.d_mlp;
    j["n_positions"] = s.max_positions;
    j["rotary_dim"] = s.rotary_dim;
    j["layer_norm_epsilon"] = 1e-5;
    j["activation_function"] = "gelu_new";
    return j;
  }
  if (s.model_type == "gpt_neox") {
    // The original Pythia spelling (rotary_pct, rotary_emb_base), not transformers 5's rope_parameters.
    j["architectures"] = {"GPTNeoXForCausalLM"};
    j["hidden_size"] = s.d_model;
    j["num_hidden_layers"] = s.n_layers;
    j["num_attention_heads"] = s.n_heads;
    j["intermediate_size"] = s.d_mlp;
    j["max_position_embeddings"] = s.max_positions;
    j["rotary_pct"] = static_cast<double>(s.rotary_dim) / static_cast<double>(s.d_model / s.n_heads);
    j["rotary_emb_base"] = 10000;
    j["use_parallel_residual"] = s.parallel_residual;
    j["layer_norm_eps"] = 1e-5;
    j["hidden_act"] = "gelu";
    j["bos_token_id"] = 0;
    j["eos_token_id"] = 0;
    return j;
  }
  if (s.model_type == "gemma3_text") {
    // Both layer kinds (sliding, global) with a window shorter than most test prompts.
    j["architectures"] = {"Gemma3ForCausalLM"};
    j["hidden_size"] = s.d_model;
    j["num_hidden_layers"] = s.n_layers;
    j["num_attention_heads"] = s.n_heads;
    j["num_key_value_heads"] = s.n_kv_heads;
    j["head_dim"] = s.d_model / s.n_heads;
    j["query_pre_attn_scalar"] = s.d_model / s.n_heads;
    j["intermediate_size"] = s.d_mlp;
    j["max_position_embeddings"] = s.max_positions;
    j["rms_norm_eps"] = 1e-6;
    j["hidden_activation"] = "gelu_pytorch_tanh";
    j["sliding_window"] = 4;
    auto types = nlohmann::json::array();
    for (int64_t l = 0; l < s.n_layers; ++l) types.push_back(l % 2 == 0 ? "sliding_attention" : "full_attention");
    j["layer_types"] = types;
    j["rope_theta"] = 1'000'000.0;
    j["rope_local_base_freq"] = 10'000.0;
    j["bos_token_id"] = 0;
    j["eos_token_id"] = 0;
    return j;
  }
  j["architectures"] = {"LlamaForCausalLM"};
  j["hidden_size"] = s.d_model;
  j["num_hidden_layers"] = s.n_layers;
  j["num_attention_heads"] = s.n_heads;
  j["num_key_value_heads"] = s.n_kv_heads;
  j["intermediate_size"] = s.d_mlp;
  j["max_position_embeddings"] = s.max_positions;
  j["rms_norm_eps"] = 1e-5;
  j["hidden_act"] = "silu";
  j["bos_token_id"] = 1;
  j["eos_token_id"] = 2;
  if (s.llama3_rope) {
    j["rope_parameters"] = {{"rope_type", "llama3"}, {"rope_theta", 10000.0}, {"factor", 8.0},
                            {"low_freq_factor", 1.0}, {"high_freq_factor", 4.0},
                            {"original_max_position_embeddings", 16}};
  } else {
    j["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 10000.0}};
  }
  return j;
}

NamedTensors tiny_tensors(const TinySpec& s) {
  at::manual_seed(s.seed);
  NamedTensors t;
  const auto matrix = [&](const std::string& name, int64_t rows, int64_t cols) {
    t.emplace_back(name, 0.15 * at::randn({rows, cols}, at::kFloat));
  };
  const auto vector = [&](const std::string& name, int64_t n, double center) {
    t.emplace_back(name, center + 0.1 * at::randn({n}, at::kFloat));
  };
  const int64_t d = s.d_model;
  if (s.model_type == "gpt2") {
    t.emplace_back("transformer.wte.weight", 0.5 * at::randn({s.vocab, d}, at::kFloat));
    t.emplace_back("transformer.wpe.weight", 0.3 * at::randn({s.max_positions, d}, at::kFloat));
    for (int64_t l = 0; l < s.n_layers; ++l) {
      const std::string h = "transformer.h." + std::to_string(l) + ".";
      vector(h + "ln_1.weight", d, 1.0);
      vector(h + "ln_1.bias", d, 0.0);
      matrix(h + "attn.c_attn.weight", d, 3 * d);  // Conv1D: [in, out]
      vector(h + "attn.c_attn.bias", 3 * d, 0.0);
      matrix(h + "attn.c_proj.weight", d, d);
      vector(h + "attn.c_proj.bias", d, 0.0);
      vector(h + "ln_2.weight", d, 1.0);
      vector(h + "ln_2.bias", d, 0.0);
      matrix(h + "mlp.c_fc.weight", d, s.d_mlp);
      vector(h + "mlp.c_fc.bias", s.d_mlp, 0.0);
      matrix(h + "mlp.c_proj.weight", s.d_mlp, d);
      vector(h + "mlp.c_proj.bias", d, 0.0);
    }
    vector("transformer.ln_f.weight", d, 1.0);
    vector("transformer.ln_f.bias", d, 0.0);
  } else if (s.model_type == "gptj") {
    t.emplace_back("transformer.wte.weight", 0.5 * at::randn({s.vocab, d}, at::kFloat));
    for (int64_t l = 0; l < s.n_layers; ++l) {
      const std::string h = "transformer.h." + std::to_string(l) + ".";
      vector(h + "ln_1.weight", d, 1.0);
      vector(h + "ln_1.bias", d, 0.0);
      for (const char* proj : {"q_proj", "k_proj", "v_proj", "out_proj"}) matrix(h + "attn." + proj + ".weight", d, d);
      matrix(h + "mlp.fc_in.weight", s.d_mlp, d);  // nn.Linear: [out, in]
      vector(h + "mlp.fc_in.bias", s.d_mlp, 0.0);
      matrix(h + "mlp.fc_out.weight", d, s.d_mlp);
      vector(h + "mlp.fc_out.bias", d, 0.0);
    }
    vector("transformer.ln_f.weight", d, 1.0);
    vector("transformer.ln_f.bias", d, 0.0);
    vector("lm_head.bias", s.vocab, 0.0);  // GPT-J's head has a bias even when tied
  } else if (s.model_type == "gpt_neox") {
    t.emplace_back("gpt_neox.embed_in.weight", 0.5 * at::randn({s.vocab, d}, at::kFloat));
    for (int64_t l = 0; l < s.n_layers; ++l) {
      const std::string h = "gpt_neox.layers." + std::to_string(l) + ".";
      for (const char* norm : {"input_layernorm", "post_attention_layernorm"}) {
        vector(h + norm + ".weight", d, 1.0);
        vector(h + norm + ".bias", d, 0.0);
      }
      matrix(h + "attention.query_key_value.weight", 3 * d, d);  // per head [q | k | v]
      vector(h + "attention.query_key_value.bias", 3 * d, 0.0);
      matrix(h + "attention.dense.weight", d, d);
      vector(h + "attention.dense.bias", d, 0.0);
      matrix(h + "mlp.dense_h_to_4h.weight", s.d_mlp, d);
      vector(h + "mlp.dense_h_to_4h.bias", s.d_mlp, 0.0);
      matrix(h + "mlp.dense_4h_to_h.weight", d, s.d_mlp);
      vector(h + "mlp.dense_4h_to_h.bias", d, 0.0);
    }
    vector("gpt_neox.final_layer_norm.weight", d, 1.0);
    vector("gpt_neox.final_layer_norm.bias", d, 0.0);
    if (!s.tied) t.emplace_back("embed_out.weight", 0.5 * at::randn({s.vocab, d}, at::kFloat));
    return t;
  } else if (s.model_type == "gemma3_text") {
    // Norm weights near 0: Gemma's RMSNorm multiplies by (1 + weight). The embedding is
    // scaled by sqrt(d) in the model, so the matrix is drawn that much smaller.
    const int64_t d_head = d / s.n_heads;
    t.emplace_back("model.embed_tokens.weight", 0.5 / std::sqrt(static_cast<double>(d)) * at::randn({s.vocab, d}, at::kFloat));
    for (int64_t l = 0; l < s.n_layers; ++l) {
      const std::string h = "model.layers." + std::to_string(l) + ".";
      for (const char* norm : {"input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm",
                               "post_feedforward_layernorm"}) {
        vector(h + norm + ".weight", d, 0.0);
      }
      vector(h + "self_attn.q_norm.weight", d_head, 0.0);
      vector(h + "self_attn.k_norm.weight", d_head, 0.0);
      matrix(h + "self_attn.q_proj.weight", s.n_heads * d_head, d);
      matrix(h + "self_attn.k_proj.weight", s.n_kv_heads * d_head, d);
      matrix(h + "self_attn.v_proj.weight", s.n_kv_heads * d_head, d);
      matrix(h + "self_attn.o_proj.weight", d, s.n_heads * d_head);
      matrix(h + "mlp.gate_proj.weight", s.d_mlp, d);
      matrix(h + "mlp.up_proj.weight", s.d_mlp, d);
      matrix(h + "mlp.down_proj.weight", d, s.d_mlp);
    }
    vector("model.norm.weight", d, 0.0);
  } else {
    const int64_t d_head = d / s.n_heads;
    t.emplace_back("model.embed_tokens.weight", 0.5 * at::randn({s.vocab, d}, at::kFloat));
    for (int64_t l = 0; l < s.n_layers; ++l) {
      const std::string h = "model.layers." + std::to_string(l) + ".";
      vector(h + "input_layernorm.weight", d, 1.0);
      matrix(h + "self_attn.q_proj.weight", s.n_heads * d_head, d);  // nn.Linear: [out, in]
      matrix(h + "self_attn.k_proj.weight", s.n_kv_heads * d_head, d);
      matrix(h + "self_attn.v_proj.weight", s.n_kv_heads * d_head, d);
      matrix(h + "self_attn.o_proj.weight", d, s.n_heads * d_head);
      vector(h + "post_attention_layernorm.weight", d, 1.0);
      matrix(h + "mlp.gate_proj.weight", s.d_mlp, d);
      matrix(h + "mlp.up_proj.weight", s.d_mlp, d);
      matrix(h + "mlp.down_proj.weight", d, s.d_mlp);
    }
    vector("model.norm.weight", d, 1.0);
  }
  if (!s.tied) t.emplace_back("lm_head.weight", 0.5 * at::randn({s.vocab, d}, at::kFloat));
  return t;
}

void write_checkpoint(const fs::path& dir, const nlohmann::json& config, const NamedTensors& tensors,
                      uint64_t max_shard_bytes) {
  fs::create_directories(dir);
  std::ofstream(dir / "config.json") << config.dump(2) << "\n";
  harness::write_weights(dir, tensors, max_shard_bytes);
}

std::vector<TinyArch> tiny_architectures() {
  TinySpec llama_gqa;
  llama_gqa.model_type = "llama";
  llama_gqa.n_kv_heads = 2;
  llama_gqa.tied = false;
  llama_gqa.llama3_rope = true;
  llama_gqa.seed = 1;
  TinySpec llama_tied = llama_gqa;
  llama_tied.n_kv_heads = 4;
  llama_tied.tied = true;
  llama_tied.llama3_rope = false;
  llama_tied.seed = 2;
  TinySpec gptj;
  gptj.model_type = "gptj";
  gptj.tied = false;
  gptj.rotary_dim = 4;  // of d_head 8: partial, as GPT-J 6B
  gptj.seed = 3;
  TinySpec neox;
  neox.model_type = "gpt_neox";
  neox.tied = false;
  neox.rotary_dim = 2;  // rotary_pct 0.25, Pythia's
  neox.seed = 4;
  TinySpec neox_sequential = neox;
  neox_sequential.parallel_residual = false;
  neox_sequential.rotary_dim = 4;
  neox_sequential.seed = 5;
  return {{"Gpt2", TinySpec{}}, {"LlamaGqa", llama_gqa},         {"LlamaTied", llama_tied},
          {"Gptj", gptj},       {"GptNeox", neox},                {"GptNeoxSequential", neox_sequential}};
}

double max_abs_diff(const at::Tensor& a, const at::Tensor& b) {
  TORCH_CHECK(a.sizes() == b.sizes(), "max_abs_diff: shapes ", a.sizes(), " and ", b.sizes());
  if (a.numel() == 0) return 0.0;
  return (a.detach().to(at::kCPU, at::kDouble) - b.detach().to(at::kCPU, at::kDouble)).abs().max().item<double>();
}

std::vector<std::vector<int64_t>> random_prompts(const std::vector<int64_t>& lengths, int64_t vocab, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  std::vector<std::vector<int64_t>> out;
  for (int64_t n : lengths) {
    const auto ids = at::randint(vocab, {n}, gen, at::kLong);
    out.emplace_back(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + n);
  }
  return out;
}

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info != nullptr ? std::string(info->test_suite_name()) + "." + info->name() : "none";
  for (char& ch : name) {
    if (ch == '/') ch = '_';
  }
  path_ = fs::temp_directory_path() /
          ("editgate_rt_" + name + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  editgate::harness::remove_tree(path_);
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  editgate::harness::remove_tree(path_, ec);
}

}  // namespace editgate::testing
