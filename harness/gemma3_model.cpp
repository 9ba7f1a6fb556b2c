// Gemma 3 text models as in HF Gemma3ForCausalLM (model_type gemma3_text):
// token embeddings scaled by sqrt(d_model), RMSNorms that multiply by
// (1 + weight), a norm before and after both attention and the MLP, RMSNorm of
// each query and key head (q_norm, k_norm) before RoPE, sliding-window layers
// and global layers with their own RoPE bases, scores scaled by
// query_pre_attn_scalar^-0.5 (attn_logit_softcapping is not applied, as in
// transformers and llama.cpp), a GeGLU MLP (gelu-tanh gate times up), tied
// embeddings, optionally soft-capped logits.
// Weights are nn.Linear: [out, in].
//
// Hooks sit where TransformerLens puts them for Gemma: hook_attn_out and
// hook_mlp_out after the post-norms (what is added to the residual stream),
// hook_pre at gate_proj's output, hook_post at down_proj's input; editgate's
// own mlp.hook_w_out at down_proj's output, before post_feedforward_layernorm
// (where ROME's v* lives).

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "harness/attention.h"
#include "harness/transformer.h"

namespace editgate::harness {
namespace {

// The config with one layer kind's RoPE in the fields RotaryEmbedding reads.
ModelConfig with_rope(ModelConfig c, double theta, std::optional<RopeScaling> scaling) {
  c.rope_theta = theta;
  c.rope_scaling = std::move(scaling);
  c.raw = nullptr;  // not needed by RotaryEmbedding; spares a copy of the whole file
  return c;
}

class Gemma3Model final : public Transformer {
 public:
  Gemma3Model(ModelConfig config, std::map<std::string, at::Tensor> params, at::Device device)
      : Transformer(std::move(config), std::move(params), device),
        global_rope_(with_rope(config_, config_.rope_theta, config_.rope_scaling), device),
        sliding_rope_(with_rope(config_, config_.sliding_rope_theta, config_.sliding_rope_scaling), device) {}

  std::map<std::string, std::vector<int64_t>> expected_tensors() const override {
    const auto& c = config_;
    std::map<std::string, std::vector<int64_t>> t;
    t["model.embed_tokens.weight"] = {c.vocab_size, c.d_model};
    for (int64_t l = 0; l < c.n_layers; ++l) {
      const std::string h = "model.layers." + std::to_string(l) + ".";
      for (const char* norm : {"input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm",
                               "post_feedforward_layernorm"}) {
        t[h + norm + ".weight"] = {c.d_model};
      }
      t[h + "self_attn.q_norm.weight"] = t[h + "self_attn.k_norm.weight"] = {c.d_head};
      t[h + "self_attn.q_proj.weight"] = {c.n_heads * c.d_head, c.d_model};
      t[h + "self_attn.k_proj.weight"] = {c.n_kv_heads * c.d_head, c.d_model};
      t[h + "self_attn.v_proj.weight"] = {c.n_kv_heads * c.d_head, c.d_model};
      t[h + "self_attn.o_proj.weight"] = {c.d_model, c.n_heads * c.d_head};
      if (c.attention_bias) {
        t[h + "self_attn.q_proj.bias"] = {c.n_heads * c.d_head};
        t[h + "self_attn.k_proj.bias"] = t[h + "self_attn.v_proj.bias"] = {c.n_kv_heads * c.d_head};
        t[h + "self_attn.o_proj.bias"] = {c.d_model};
      }
      t[h + "mlp.gate_proj.weight"] = t[h + "mlp.up_proj.weight"] = {c.d_mlp, c.d_model};
      t[h + "mlp.down_proj.weight"] = {c.d_model, c.d_mlp};
    }
    t["model.norm.weight"] = {c.d_model};
    t["lm_head.weight"] = {c.vocab_size, c.d_model};
    return t;
  }

  bool is_optional_tensor(const std::string& name) const override {
    return name == "lm_head.weight" && config_.tie_word_embeddings;
  }

  std::string token_embedding_name() const override { return "model.embed_tokens.weight"; }
  double embedding_scale() const override { return std::sqrt(static_cast<double>(config_.d_model)); }

  bool has_post_mlp_norm() const override { return true; }
  at::Tensor mlp_out_gain(int64_t layer, const at::Tensor& w_out) const override {
    const auto xf = w_out.to(at::kFloat);
    const auto rms = at::sqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + config_.norm_eps);
    const auto& w = p("model.layers." + std::to_string(layer) + ".post_feedforward_layernorm.weight");
    return (1.0 + w.to(at::kFloat)) / rms;
  }

 protected:
  WeightRef map_weight(std::string_view stable) const override {
    return llama_layout_weight(stable, config_.n_layers);
  }

  at::Tensor run(const at::Tensor& ids, const at::Tensor& mask4d, const at::Tensor& position_ids, KVCache* cache,
                 int64_t past, const at::Tensor& logit_positions) override {
    const auto& c = config_;
    const int64_t batch = ids.size(0);
    const int64_t pos = ids.size(1);
    const auto& embed = p("model.embed_tokens.weight");
    // sqrt(d_model) rounded to float32, then to the embedding's dtype, as transformers' buffer is.
    const auto scale = at::scalar_tensor(std::sqrt(static_cast<double>(c.d_model)), at::kFloat).to(embed.dtype());
    at::Tensor x = at::embedding(embed, ids) * scale.to(embed.device());  // [batch, pos, d_model]
    const bool any_sliding = std::find(c.sliding_layers.begin(), c.sliding_layers.end(), true) != c.sliding_layers.end();
    const auto window_mask = any_sliding ? restrict_to_window(mask4d, past, c.sliding_window) : mask4d;
    for (int64_t l = 0; l < c.n_layers; ++l) {
      const std::string h = "model.layers." + std::to_string(l) + ".";
      const bool sliding = !c.sliding_layers.empty() && c.sliding_layers[l];
      const RotaryEmbedding& rope = sliding ? sliding_rope_ : global_rope_;
      x = hook(HookSite::kResidPre, l, x, past);
      const auto a = rms_norm(x, h + "input_layernorm");
      const auto heads = [&](const char* proj, int64_t n) {  // -> [batch, n, pos, d_head]
        return linear(a, h + "self_attn." + proj).view({batch, pos, n, c.d_head}).transpose(1, 2);
      };
      const auto q = rope.apply(rms_norm(heads("q_proj", c.n_heads), h + "self_attn.q_norm"), position_ids);
      const auto k = rope.apply(rms_norm(heads("k_proj", c.n_kv_heads), h + "self_attn.k_norm"), position_ids);
      auto [keys, values] = append_to_cache(cache, l, k, heads("v_proj", c.n_kv_heads));
      auto z = attend(q, keys, values, sliding ? window_mask : mask4d, c.attention_scale);
      z = hook(HookSite::kAttnZ, l, z, past);  // [batch, pos, heads, d_head]
      const auto o = linear(z.reshape({batch, pos, c.n_heads * c.d_head}), h + "self_attn.o_proj");
      x = x + hook(HookSite::kAttnOut, l, rms_norm(o, h + "post_attention_layernorm"), past);
      const auto m = rms_norm(x, h + "pre_feedforward_layernorm");
      auto pre = hook(HookSite::kMlpPre, l, linear(m, h + "mlp.gate_proj"), past);  // [batch, pos, d_mlp]
      auto post = hook(HookSite::kMlpPost, l, activate(pre) * linear(m, h + "mlp.up_proj"), past);
      const auto down = hook(HookSite::kMlpWOut, l, linear(post, h + "mlp.down_proj"), past);
      auto mlp_out = hook(HookSite::kMlpOut, l, rms_norm(down, h + "post_feedforward_layernorm"), past);
      x = hook(HookSite::kResidPost, l, x + mlp_out, past);
    }
    x = at_logit_positions(x, logit_positions);
    x = rms_norm(x, "model.norm");
    const auto& unembed = c.tie_word_embeddings ? embed : p("lm_head.weight");
    auto logits = at::matmul(x, unembed.t());  // [batch, pos, vocab]
    if (c.final_logit_softcap > 0) logits = at::tanh(logits / c.final_logit_softcap) * c.final_logit_softcap;
    return logits;
  }

 private:
  at::Tensor linear(const at::Tensor& x, const std::string& name) const {
    const auto bias = params_.find(name + ".bias");
    return at::linear(x, p(name + ".weight"), bias != params_.end() ? bias->second : at::Tensor());
  }

  // Gemma's RMSNorm: in float32, times (1 + weight) before casting back (Llama casts first).
  at::Tensor rms_norm(const at::Tensor& x, const std::string& name) const {
    const auto xf = x.to(at::kFloat);
    const auto normed = xf * at::rsqrt(xf.pow(2).mean(-1, /*keepdim=*/true) + config_.norm_eps);
    return (normed * (1.0 + p(name + ".weight").to(at::kFloat))).to(x.dtype());
  }

  at::Tensor activate(const at::Tensor& x) const {
    return config_.activation == "gelu" ? at::gelu(x) : at::gelu(x, "tanh");
  }

  RotaryEmbedding global_rope_;
  RotaryEmbedding sliding_rope_;
};

}  // namespace

std::unique_ptr<Transformer> make_gemma3(ModelConfig config, std::map<std::string, at::Tensor> params,
                                         at::Device device) {
  return std::make_unique<Gemma3Model>(std::move(config), std::move(params), device);
}

}  // namespace editgate::harness
