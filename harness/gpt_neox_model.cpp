// GPT-NeoX / Pythia as in HF GPTNeoXForCausalLM: LayerNorms with bias, fused
// query_key_value in NeoX's per-head layout ([q | k | v] for head 0, then head
// 1, ...), rotary (rotate_half) on the first rotary_pct of each head, GELU MLP,
// parallel residual (resid_post = resid_pre + attn_out + mlp_out, each branch
// with its own LayerNorm) or sequential when use_parallel_residual is false,
// untied embed_out. Weights are nn.Linear: [out, in].

#include <ATen/ATen.h>

#include "harness/attention.h"
#include "harness/transformer.h"

namespace editgate::harness {
namespace {

class GptNeoxModel final : public Transformer {
 public:
  GptNeoxModel(ModelConfig config, std::map<std::string, at::Tensor> params, at::Device device)
      : Transformer(std::move(config), std::move(params), device), rope_(config_, device) {}

  std::map<std::string, std::vector<int64_t>> expected_tensors() const override {
    const auto& c = config_;
    std::map<std::string, std::vector<int64_t>> t;
    t["gpt_neox.embed_in.weight"] = {c.vocab_size, c.d_model};
    for (int64_t l = 0; l < c.n_layers; ++l) {
      const std::string h = "gpt_neox.layers." + std::to_string(l) + ".";
      t[h + "input_layernorm.weight"] = t[h + "input_layernorm.bias"] = {c.d_model};
      t[h + "post_attention_layernorm.weight"] = t[h + "post_attention_layernorm.bias"] = {c.d_model};
      t[h + "attention.query_key_value.weight"] = {3 * c.d_model, c.d_model};
      t[h + "attention.dense.weight"] = {c.d_model, c.d_model};
      if (c.attention_bias) {
        t[h + "attention.query_key_value.bias"] = {3 * c.d_model};
        t[h + "attention.dense.bias"] = {c.d_model};
      }
      t[h + "mlp.dense_h_to_4h.weight"] = {c.d_mlp, c.d_model};
      t[h + "mlp.dense_h_to_4h.bias"] = {c.d_mlp};
      t[h + "mlp.dense_4h_to_h.weight"] = {c.d_model, c.d_mlp};
      t[h + "mlp.dense_4h_to_h.bias"] = {c.d_model};
    }
    t["gpt_neox.final_layer_norm.weight"] = t["gpt_neox.final_layer_norm.bias"] = {c.d_model};
    t["embed_out.weight"] = {c.vocab_size, c.d_model};
    return t;
  }

  bool is_optional_tensor(const std::string& name) const override {
    // Pythia's files carry causal-mask buffers and rotary inv_freq, all recomputed here.
    return (name == "embed_out.weight" && config_.tie_word_embeddings) || name.ends_with(".attention.bias") ||
           name.ends_with(".attention.masked_bias") || name.ends_with("rotary_emb.inv_freq");
  }

  std::string token_embedding_name() const override { return "gpt_neox.embed_in.weight"; }

 protected:
  WeightRef map_weight(std::string_view stable) const override {
    int64_t l = 0;
    std::string rest;
    if (!split_stable_name(stable, l, rest) || l >= config_.n_layers) return {};
    const std::string h = "gpt_neox.layers." + std::to_string(l) + ".";
    if (rest == "mlp.W_in") return {h + "mlp.dense_h_to_4h.weight", false};
    if (rest == "mlp.W_out") return {h + "mlp.dense_4h_to_h.weight", false};
    if (rest == "attn.W_O") return {h + "attention.dense.weight", false};
    return {};  // Q, K and V are interleaved per head in query_key_value: not separately editable
  }

  at::Tensor run(const at::Tensor& ids, const at::Tensor& mask4d, const at::Tensor& position_ids, KVCache* cache,
                 int64_t past, const at::Tensor& logit_positions) override {
    const auto& c = config_;
    const int64_t batch = ids.size(0);
    const int64_t pos = ids.size(1);
    at::Tensor x = at::embedding(p("gpt_neox.embed_in.weight"), ids);  // [batch, pos, d_model]
    for (int64_t l = 0; l < c.n_layers; ++l) {
      const std::string h = "gpt_neox.layers." + std::to_string(l) + ".";
      x = hook(HookSite::kResidPre, l, x, past);
      const auto a = layer_norm(x, h + "input_layernorm");
      const auto qkv = linear(a, h + "attention.query_key_value")
                           .view({batch, pos, c.n_heads, 3 * c.d_head})
                           .transpose(1, 2);  // [batch, heads, pos, 3 * d_head]
      const auto q = rope_.apply(qkv.narrow(-1, 0, c.d_head), position_ids);
      auto [k, v] = append_to_cache(cache, l, rope_.apply(qkv.narrow(-1, c.d_head, c.d_head), position_ids),
                                    qkv.narrow(-1, 2 * c.d_head, c.d_head).contiguous());
      auto z = hook(HookSite::kAttnZ, l, attend(q, k, v, mask4d), past);  // [batch, pos, heads, d_head]
      auto attn_out = linear(z.reshape({batch, pos, c.d_model}), h + "attention.dense");
      attn_out = hook(HookSite::kAttnOut, l, attn_out, past);  // [batch, pos, d_model]
      // Parallel: the MLP reads the block input; sequential: the input plus attention (TransformerLens's resid_mid).
      const auto mid = c.parallel_residual ? x : x + attn_out;
      const auto m = layer_norm(mid, h + "post_attention_layernorm");
      auto pre = hook(HookSite::kMlpPre, l, linear(m, h + "mlp.dense_h_to_4h"), past);  // [batch, pos, d_mlp]
      auto post = hook(HookSite::kMlpPost, l, c.activation == "gelu" ? at::gelu(pre) : at::gelu(pre, "tanh"), past);
      auto w_out = hook(HookSite::kMlpWOut, l, linear(post, h + "mlp.dense_4h_to_h"), past);
      auto mlp_out = hook(HookSite::kMlpOut, l, w_out, past);
      x = hook(HookSite::kResidPost, l, c.parallel_residual ? x + attn_out + mlp_out : mid + mlp_out, past);
    }
    x = at_logit_positions(x, logit_positions);
    x = layer_norm(x, "gpt_neox.final_layer_norm");
    const auto& unembed = c.tie_word_embeddings ? p("gpt_neox.embed_in.weight") : p("embed_out.weight");
    return at::matmul(x, unembed.t());  // [batch, pos, vocab]
  }

 private:
  at::Tensor linear(const at::Tensor& x, const std::string& name) const {
    const auto bias = params_.find(name + ".bias");
    return at::linear(x, p(name + ".weight"), bias != params_.end() ? bias->second : at::Tensor());
  }

  at::Tensor layer_norm(const at::Tensor& x, const std::string& name) const {
    return at::layer_norm(x, {config_.d_model}, p(name + ".weight"), p(name + ".bias"), config_.norm_eps);
  }

  RotaryEmbedding rope_;
};

}  // namespace

std::unique_ptr<Transformer> make_gpt_neox(ModelConfig config, std::map<std::string, at::Tensor> params,
                                           at::Device device) {
  return std::make_unique<GptNeoxModel>(std::move(config), std::move(params), device);
}

}  // namespace editgate::harness
