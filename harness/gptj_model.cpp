// GPT-J as in HF GPTJForCausalLM: one LayerNorm per block feeding attention and
// MLP in parallel (resid_post = resid_pre + attn_out + mlp_out), separate
// q/k/v/out projections without bias, rotary on the first rotary_dim
// dimensions of each head with GPT-J's interleaved pairs, GELU MLP with
// biases, untied LM head with a bias. Weights are nn.Linear: [out, in].

#include <ATen/ATen.h>

#include "harness/attention.h"
#include "harness/transformer.h"

namespace editgate::harness {
namespace {

class GptjModel final : public Transformer {
 public:
  GptjModel(ModelConfig config, std::map<std::string, at::Tensor> params, at::Device device)
      : Transformer(std::move(config), std::move(params), device), rope_(config_, device) {}

  std::map<std::string, std::vector<int64_t>> expected_tensors() const override {
    const auto& c = config_;
    std::map<std::string, std::vector<int64_t>> t;
    t["transformer.wte.weight"] = {c.vocab_size, c.d_model};
    for (int64_t l = 0; l < c.n_layers; ++l) {
      const std::string h = "transformer.h." + std::to_string(l) + ".";
      t[h + "ln_1.weight"] = t[h + "ln_1.bias"] = {c.d_model};
      for (const char* proj : {"q_proj", "k_proj", "v_proj", "out_proj"}) {
        t[h + "attn." + proj + ".weight"] = {c.d_model, c.d_model};
      }
      t[h + "mlp.fc_in.weight"] = {c.d_mlp, c.d_model};
      t[h + "mlp.fc_in.bias"] = {c.d_mlp};
      t[h + "mlp.fc_out.weight"] = {c.d_model, c.d_mlp};
      t[h + "mlp.fc_out.bias"] = {c.d_model};
    }
    t["transformer.ln_f.weight"] = t["transformer.ln_f.bias"] = {c.d_model};
    t["lm_head.weight"] = {c.vocab_size, c.d_model};
    t["lm_head.bias"] = {c.vocab_size};
    return t;
  }

  bool is_optional_tensor(const std::string& name) const override {
    // The original EleutherAI checkpoint carries the causal-mask buffers attn.bias / attn.masked_bias.
    return (name == "lm_head.weight" && config_.tie_word_embeddings) || name.ends_with(".attn.bias") ||
           name.ends_with(".attn.masked_bias");
  }

  std::string token_embedding_name() const override { return "transformer.wte.weight"; }

 protected:
  WeightRef map_weight(std::string_view stable) const override {
    int64_t l = 0;
    std::string rest;
    if (!split_stable_name(stable, l, rest) || l >= config_.n_layers) return {};
    const std::string h = "transformer.h." + std::to_string(l) + ".";
    if (rest == "mlp.W_in") return {h + "mlp.fc_in.weight", false};
    if (rest == "mlp.W_out") return {h + "mlp.fc_out.weight", false};
    if (rest == "attn.W_Q") return {h + "attn.q_proj.weight", false};
    if (rest == "attn.W_K") return {h + "attn.k_proj.weight", false};
    if (rest == "attn.W_V") return {h + "attn.v_proj.weight", false};
    if (rest == "attn.W_O") return {h + "attn.out_proj.weight", false};
    return {};
  }

  at::Tensor run(const at::Tensor& ids, const at::Tensor& mask4d, const at::Tensor& position_ids, KVCache* cache,
                 int64_t past, const at::Tensor& logit_positions) override {
    const auto& c = config_;
    const int64_t batch = ids.size(0);
    const int64_t pos = ids.size(1);
    at::Tensor x = at::embedding(p("transformer.wte.weight"), ids);  // [batch, pos, d_model]
    for (int64_t l = 0; l < c.n_layers; ++l) {
      const std::string h = "transformer.h." + std::to_string(l) + ".";
      x = hook(HookSite::kResidPre, l, x, past);
      // One LayerNorm for both branches: TransformerLens gives GPT-J ln1 = ln2 and parallel_attn_mlp.
      const auto a = at::layer_norm(x, {c.d_model}, p(h + "ln_1.weight"), p(h + "ln_1.bias"), c.norm_eps);
      const auto heads = [&](const char* proj) {  // -> [batch, heads, pos, d_head]
        return at::linear(a, p(h + "attn." + proj + ".weight")).view({batch, pos, c.n_heads, c.d_head}).transpose(1, 2);
      };
      const auto q = rope_.apply(heads("q_proj"), position_ids);
      auto [k, v] = append_to_cache(cache, l, rope_.apply(heads("k_proj"), position_ids), heads("v_proj"));
      auto z = hook(HookSite::kAttnZ, l, attend(q, k, v, mask4d), past);  // [batch, pos, heads, d_head]
      auto attn_out = at::linear(z.reshape({batch, pos, c.d_model}), p(h + "attn.out_proj.weight"));
      attn_out = hook(HookSite::kAttnOut, l, attn_out, past);  // [batch, pos, d_model]
      auto pre = hook(HookSite::kMlpPre, l, at::linear(a, p(h + "mlp.fc_in.weight"), p(h + "mlp.fc_in.bias")), past);
      auto post = hook(HookSite::kMlpPost, l, c.activation == "gelu" ? at::gelu(pre) : at::gelu(pre, "tanh"), past);
      auto mlp_out = at::linear(post, p(h + "mlp.fc_out.weight"), p(h + "mlp.fc_out.bias"));
      mlp_out = hook(HookSite::kMlpOut, l, hook(HookSite::kMlpWOut, l, mlp_out, past), past);  // [batch, pos, d_model]
      x = hook(HookSite::kResidPost, l, x + attn_out + mlp_out, past);
    }
    x = at_logit_positions(x, logit_positions);
    x = at::layer_norm(x, {c.d_model}, p("transformer.ln_f.weight"), p("transformer.ln_f.bias"), c.norm_eps);
    const auto& unembed = c.tie_word_embeddings ? p("transformer.wte.weight") : p("lm_head.weight");
    return at::linear(x, unembed, p("lm_head.bias"));  // [batch, pos, vocab]
  }

 private:
  RotaryEmbedding rope_;
};

}  // namespace

std::unique_ptr<Transformer> make_gptj(ModelConfig config, std::map<std::string, at::Tensor> params,
                                       at::Device device) {
  return std::make_unique<GptjModel>(std::move(config), std::move(params), device);
}

}  // namespace editgate::harness
