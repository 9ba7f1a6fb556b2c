// Llama family (RMSNorm, RoPE with optional Llama-3 scaling, SwiGLU MLP,
// grouped-query attention, tied or untied embeddings; optional q/k/v biases as
// in Qwen2) as in HF LlamaForCausalLM. Weights are nn.Linear: [out, in].

#include <ATen/ATen.h>

#include "harness/attention.h"
#include "harness/transformer.h"

namespace editgate::harness {
namespace {

class LlamaModel final : public Transformer {
 public:
  LlamaModel(ModelConfig config, std::map<std::string, at::Tensor> params, at::Device device)
      : Transformer(std::move(config), std::move(params), device), rope_(config_, device) {}

  std::map<std::string, std::vector<int64_t>> expected_tensors() const override {
    const auto& c = config_;
    std::map<std::string, std::vector<int64_t>> t;
    t["model.embed_tokens.weight"] = {c.vocab_size, c.d_model};
    for (int64_t l = 0; l < c.n_layers; ++l) {
      const std::string h = "model.layers." + std::to_string(l) + ".";
      t[h + "input_layernorm.weight"] = t[h + "post_attention_layernorm.weight"] = {c.d_model};
      t[h + "self_attn.q_proj.weight"] = {c.n_heads * c.d_head, c.d_model};
      t[h + "self_attn.k_proj.weight"] = {c.n_kv_heads * c.d_head, c.d_model};
      t[h + "self_attn.v_proj.weight"] = {c.n_kv_heads * c.d_head, c.d_model};
      t[h + "self_attn.o_proj.weight"] = {c.d_model, c.n_heads * c.d_head};
      if (c.attention_bias) {
        t[h + "self_attn.q_proj.bias"] = {c.n_heads * c.d_head};
        t[h + "self_attn.k_proj.bias"] = t[h + "self_attn.v_proj.bias"] = {c.n_kv_heads * c.d_head};
      }
      t[h + "mlp.gate_proj.weight"] = t[h + "mlp.up_proj.weight"] = {c.d_mlp, c.d_model};
      t[h + "mlp.down_proj.weight"] = {c.d_model, c.d_mlp};
      if (c.mlp_bias) {
        t[h + "mlp.gate_proj.bias"] = t[h + "mlp.up_proj.bias"] = {c.d_mlp};
        t[h + "mlp.down_proj.bias"] = {c.d_model};
      }
    }
    t["model.norm.weight"] = {c.d_model};
    t["lm_head.weight"] = {c.vocab_size, c.d_model};
    return t;
  }

  bool is_optional_tensor(const std::string& name) const override {
    // Qwen2 carries o_proj without bias even when q/k/v have one; rotary inv_freq buffers in old files.
    return (name == "lm_head.weight" && config_.tie_word_embeddings) || name.ends_with("rotary_emb.inv_freq");
  }

  std::string token_embedding_name() const override { return "model.embed_tokens.weight"; }

 protected:
  WeightRef map_weight(std::string_view stable) const override {
    return llama_layout_weight(stable, config_.n_layers);
  }

  at::Tensor run(const at::Tensor& ids, const at::Tensor& mask4d, const at::Tensor& position_ids, KVCache* cache,
                 int64_t past, const at::Tensor& logit_positions) override {
    const auto& c = config_;
    const int64_t batch = ids.size(0);
    const int64_t pos = ids.size(1);
    at::Tensor x = at::embedding(p("model.embed_tokens.weight"), ids);  // [batch, pos, d_model]
    for (int64_t l = 0; l < c.n_layers; ++l) {
      const std::string h = "model.layers." + std::to_string(l) + ".";
      x = hook(HookSite::kResidPre, l, x, past);
      const auto a = rms_norm(x, p(h + "input_layernorm.weight"));
      auto q = linear(a, h + "self_attn.q_proj").view({batch, pos, c.n_heads, c.d_head}).transpose(1, 2);
      auto k = linear(a, h + "self_attn.k_proj").view({batch, pos, c.n_kv_heads, c.d_head}).transpose(1, 2);
      auto v = linear(a, h + "self_attn.v_proj").view({batch, pos, c.n_kv_heads, c.d_head}).transpose(1, 2);
      q = rope_.apply(q, position_ids);
      k = rope_.apply(k, position_ids);
      std::tie(k, v) = append_to_cache(cache, l, k, v);
      auto z = hook(HookSite::kAttnZ, l, attend(q, k, v, mask4d), past);  // [batch, pos, heads, d_head]
      auto attn_out = linear(z.reshape({batch, pos, c.n_heads * c.d_head}), h + "self_attn.o_proj");
      x = x + hook(HookSite::kAttnOut, l, attn_out, past);
      const auto m = rms_norm(x, p(h + "post_attention_layernorm.weight"));
      auto pre = hook(HookSite::kMlpPre, l, linear(m, h + "mlp.gate_proj"), past);  // [batch, pos, d_mlp]
      auto post = hook(HookSite::kMlpPost, l, at::silu(pre) * linear(m, h + "mlp.up_proj"), past);
      auto w_out = hook(HookSite::kMlpWOut, l, linear(post, h + "mlp.down_proj"), past);
      auto mlp_out = hook(HookSite::kMlpOut, l, w_out, past);
      x = hook(HookSite::kResidPost, l, x + mlp_out, past);
    }
    x = at_logit_positions(x, logit_positions);
    x = rms_norm(x, p("model.norm.weight"));
    const auto& unembed = c.tie_word_embeddings ? p("model.embed_tokens.weight") : p("lm_head.weight");
    return at::matmul(x, unembed.t());  // [batch, pos, vocab]
  }

 private:
  at::Tensor linear(const at::Tensor& x, const std::string& name) const {
    const auto bias = params_.find(name + ".bias");
    return at::linear(x, p(name + ".weight"), bias != params_.end() ? bias->second : at::Tensor());
  }

  at::Tensor rms_norm(const at::Tensor& x, const at::Tensor& weight) const {
    // In float32 whatever the weights' dtype, as HF's LlamaRMSNorm.
    const auto xf = x.to(at::kFloat);
    const auto normed = xf * at::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + config_.norm_eps);
    return weight * normed.to(x.dtype());
  }

  RotaryEmbedding rope_;
};

}  // namespace

std::unique_ptr<Transformer> make_llama(ModelConfig config, std::map<std::string, at::Tensor> params,
                                        at::Device device) {
  return std::make_unique<LlamaModel>(std::move(config), std::move(params), device);
}

}  // namespace editgate::harness
