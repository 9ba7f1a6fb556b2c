#include "harness/attention.h"

#include <ATen/ATen.h>

#include <cmath>

namespace editgate::harness {

at::Tensor build_attention_mask(const at::Tensor& key_mask, int64_t past, int64_t pos) {
  const int64_t keys = past + pos;
  const auto opts = at::TensorOptions().device(key_mask.device()).dtype(at::kLong);
  const auto q_abs = at::arange(past, keys, opts).unsqueeze(1);  // [pos, 1]
  const auto k_abs = at::arange(0, keys, opts).unsqueeze(0);     // [1, keys]
  const auto causal = k_abs.le(q_abs);                           // [pos, keys]
  const auto self = k_abs.eq(q_abs);
  const auto valid = key_mask.to(at::kBool).unsqueeze(1);        // [batch, 1, keys]
  return (causal.unsqueeze(0).logical_and(valid)).logical_or(self.unsqueeze(0)).unsqueeze(1);
}

std::pair<at::Tensor, at::Tensor> append_to_cache(KVCache* cache, int64_t layer, at::Tensor k, at::Tensor v) {
  if (cache == nullptr) return {std::move(k), std::move(v)};
  if (static_cast<int64_t>(cache->keys.size()) <= layer) {
    cache->keys.resize(layer + 1);
    cache->values.resize(layer + 1);
  }
  auto& ck = cache->keys[layer];
  auto& cv = cache->values[layer];
  ck = ck.defined() ? at::cat({ck, k}, 2) : k;
  cv = cv.defined() ? at::cat({cv, v}, 2) : v;
  return {ck, cv};
}

at::Tensor attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask) {
  return attend(q, k, v, mask, 0.0);
}

at::Tensor restrict_to_window(const at::Tensor& mask, int64_t past, int64_t window) {
  const int64_t keys = mask.size(-1);
  const int64_t pos = mask.size(-2);
  const auto opts = at::TensorOptions().device(mask.device()).dtype(at::kLong);
  const auto q_abs = at::arange(past, past + pos, opts).unsqueeze(1);  // [pos, 1]
  const auto k_abs = at::arange(0, keys, opts).unsqueeze(0);           // [1, keys]
  return mask.logical_and(k_abs.gt(q_abs - window));                    // the query itself always stays
}

at::Tensor attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask, double scale) {
  const int64_t groups = q.size(1) / k.size(1);
  const auto kk = groups == 1 ? k : k.repeat_interleave(groups, 1);
  const auto vv = groups == 1 ? v : v.repeat_interleave(groups, 1);
  // No scale: SDPA's own 1/sqrt(d_head), as before Gemma needed another one.
  const std::optional<double> s = scale > 0 ? std::optional<double>(scale) : std::nullopt;
  const auto z = at::scaled_dot_product_attention(q, kk, vv, mask, 0.0, false, s);  // [batch, heads, pos, d_head]
  return z.transpose(1, 2);
}

RotaryEmbedding::RotaryEmbedding(const ModelConfig& c, at::Device device)
    : dim_(c.rotary_dim > 0 ? c.rotary_dim : c.d_head), interleaved_(c.rotary_interleaved) {
  const auto opts = at::TensorOptions().dtype(at::kDouble);
  auto inv = 1.0 / at::pow(c.rope_theta, at::arange(0, dim_, 2, opts) / static_cast<double>(dim_));
  if (c.rope_scaling && c.rope_scaling->type == "llama3") {
    // Llama-3 scaling: long wavelengths slowed by `factor`, short ones kept,
    // a smooth blend between (transformers' _compute_llama3_parameters).
    const auto& s = *c.rope_scaling;
    const double old_len = static_cast<double>(s.original_max_position_embeddings);
    const double low_wavelen = old_len / s.low_freq_factor;
    const double high_wavelen = old_len / s.high_freq_factor;
    const auto wavelen = 2.0 * M_PI / inv;
    auto scaled = at::where(wavelen > low_wavelen, inv / s.factor, inv);
    const auto smooth = (old_len / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
    const auto smoothed = (1.0 - smooth) * scaled / s.factor + smooth * scaled;
    const auto medium = wavelen.ge(high_wavelen).logical_and(wavelen.le(low_wavelen));
    inv = at::where(medium, smoothed, scaled);
  }
  if (c.rope_scaling && c.rope_scaling->type == "linear") inv = inv / c.rope_scaling->factor;  // positions / factor
  inv_freq_ = inv.to(at::kFloat).to(device);
}

at::Tensor RotaryEmbedding::apply(const at::Tensor& x, const at::Tensor& position_ids) const {
  // freqs [batch, pos, dim/2] in float32 as HF does, then cast to x's dtype.
  const auto freqs = position_ids.to(at::kFloat).unsqueeze(-1) * inv_freq_;
  const auto rot = dim_ == x.size(-1) ? x : x.narrow(-1, 0, dim_);  // [batch, heads, pos, dim]
  at::Tensor emb, rotated;
  if (interleaved_) {
    // GPT-J: frequency i turns the pair (2i, 2i+1); rotate_every_two gives (-x[2i+1], x[2i]).
    emb = freqs.repeat_interleave(2, -1).unsqueeze(1);  // [batch, 1, pos, dim]
    const auto pairs = rot.unflatten(-1, {dim_ / 2, 2});
    rotated = at::stack({-pairs.select(-1, 1), pairs.select(-1, 0)}, -1).flatten(-2);
  } else {
    // Llama / NeoX: frequency i turns (i, i + half); rotate_half gives (-x[i+half], x[i]).
    emb = at::cat({freqs, freqs}, -1).unsqueeze(1);  // [batch, 1, pos, dim]
    const int64_t half = dim_ / 2;
    rotated = at::cat({-rot.narrow(-1, half, half), rot.narrow(-1, 0, half)}, -1);
  }
  const auto out = rot * emb.cos().to(x.dtype()) + rotated * emb.sin().to(x.dtype());
  return dim_ == x.size(-1) ? out : at::cat({out, x.narrow(-1, dim_, x.size(-1) - dim_)}, -1);
}

}  // namespace editgate::harness
