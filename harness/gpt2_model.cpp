// GPT-2 (pre-LN, learned positions, GELU MLP, fused QKV) as in HF
// GPT2LMHeadModel. Weights are HF Conv1D, stored [in, out]: y = x W + b.
// Tensor names are the prefixed ones ("transformer.h.0..."); checkpoint.cpp
// maps the old un-prefixed names onto them when loading.

#include <ATen/ATen.h>

#include "harness/attention.h"
#include "harness/transformer.h"

namespace editgate::harness {
namespace {

class Gpt2Model final : public Transformer {
 public:
  using Transformer::Transformer;

  std::map<std::string, std::vector<int64_t>> expected_tensors() const override {
    const auto& c = config_;
    std::map<std::string, std::vector<int64_t>> t;
    t["transformer.wte.weight"] = {c.vocab_size, c.d_model};
    t["transformer.wpe.weight"] = {c.max_positions, c.d_model};
    for (int64_t l = 0; l < c.n_layers; ++l) {
      const std::string h = "transformer.h." + std::to_string(l) + ".";
      t[h + "ln_1.weight"] = t[h + "ln_1.bias"] = {c.d_model};
      t[h + "attn.c_attn.weight"] = {c.d_model, 3 * c.d_model};
      t[h + "attn.c_attn.bias"] = {3 * c.d_model};
      t[h + "attn.c_proj.weight"] = {c.d_model, c.d_model};
      t[h + "attn.c_proj.bias"] = {c.d_model};
      t[h + "ln_2.weight"] = t[h + "ln_2.bias"] = {c.d_model};
      t[h + "mlp.c_fc.weight"] = {c.d_model, c.d_mlp};
      t[h + "mlp.c_fc.bias"] = {c.d_mlp};
      t[h + "mlp.c_proj.weight"] = {c.d_mlp, c.d_model};
      t[h + "mlp.c_proj.bias"] = {c.d_model};
    }
    t["transformer.ln_f.weight"] = t["transformer.ln_f.bias"] = {c.d_model};
    t["lm_head.weight"] = {c.vocab_size, c.d_model};
    return t;
  }

  bool is_optional_tensor(const std::string& name) const override {
    // lm_head is usually tied to wte and not saved; attn.bias / attn.masked_bias
    // are causal-mask buffers that old checkpoints carry.
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
    if (rest == "mlp.W_in") return {h + "mlp.c_fc.weight", true};
    if (rest == "mlp.W_out") return {h + "mlp.c_proj.weight", true};
    if (rest == "attn.W_O") return {h + "attn.c_proj.weight", true};
    return {};  // Q, K and V share the fused c_attn tensor: not separately editable
  }

  at::Tensor run(const at::Tensor& ids, const at::Tensor& mask4d, const at::Tensor& position_ids, KVCache* cache,
                 int64_t past, const at::Tensor& logit_positions) override {
    const auto& c = config_;
    const int64_t batch = ids.size(0);
    const int64_t pos = ids.size(1);
    at::Tensor x = at::embedding(p("transformer.wte.weight"), ids) +
                   at::embedding(p("transformer.wpe.weight"), position_ids);  // [batch, pos, d_model]
    for (int64_t l = 0; l < c.n_layers; ++l) {
      const std::string h = "transformer.h." + std::to_string(l) + ".";
      x = hook(HookSite::kResidPre, l, x, past);
      auto a = at::layer_norm(x, {c.d_model}, p(h + "ln_1.weight"), p(h + "ln_1.bias"), c.norm_eps);
      const auto qkv = at::addmm(p(h + "attn.c_attn.bias"), a.reshape({-1, c.d_model}), p(h + "attn.c_attn.weight"))
                           .view({batch, pos, 3, c.n_heads, c.d_head});
      const auto q = qkv.select(2, 0).transpose(1, 2);  // [batch, heads, pos, d_head]
      auto [k, v] = append_to_cache(cache, l, qkv.select(2, 1).transpose(1, 2), qkv.select(2, 2).transpose(1, 2));
      auto z = hook(HookSite::kAttnZ, l, attend(q, k, v, mask4d), past);  // [batch, pos, heads, d_head]
      auto attn_out = at::addmm(p(h + "attn.c_proj.bias"), z.reshape({-1, c.d_model}), p(h + "attn.c_proj.weight"))
                          .view({batch, pos, c.d_model});
      attn_out = hook(HookSite::kAttnOut, l, attn_out, past);
      x = x + attn_out;
      auto m = at::layer_norm(x, {c.d_model}, p(h + "ln_2.weight"), p(h + "ln_2.bias"), c.norm_eps);
      auto pre = at::addmm(p(h + "mlp.c_fc.bias"), m.reshape({-1, c.d_model}), p(h + "mlp.c_fc.weight"))
                     .view({batch, pos, c.d_mlp});
      pre = hook(HookSite::kMlpPre, l, pre, past);
      auto post = c.activation == "gelu" ? at::gelu(pre) : at::gelu(pre, "tanh");
      post = hook(HookSite::kMlpPost, l, post, past);
      auto mlp_out = at::addmm(p(h + "mlp.c_proj.bias"), post.reshape({-1, c.d_mlp}), p(h + "mlp.c_proj.weight"))
                         .view({batch, pos, c.d_model});
      mlp_out = hook(HookSite::kMlpOut, l, hook(HookSite::kMlpWOut, l, mlp_out, past), past);
      x = hook(HookSite::kResidPost, l, x + mlp_out, past);
    }
    x = at_logit_positions(x, logit_positions);
    x = at::layer_norm(x, {c.d_model}, p("transformer.ln_f.weight"), p("transformer.ln_f.bias"), c.norm_eps);
    const auto& unembed = c.tie_word_embeddings ? p("transformer.wte.weight") : p("lm_head.weight");
    return at::matmul(x, unembed.t());  // [batch, pos, vocab]
  }
};

}  // namespace

std::unique_ptr<Transformer> make_gpt2(ModelConfig config, std::map<std::string, at::Tensor> params,
                                       at::Device device) {
  return std::make_unique<Gpt2Model>(std::move(config), std::move(params), device);
}

}  // namespace editgate::harness
