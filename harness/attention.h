#pragma once
// Pieces every architecture's attention shares: the boolean attention mask,
// the KV-cache append, grouped-query scaled-dot-product attention, and rotary
// position embeddings (with Llama-3 or linear frequency scaling). Architectures own how
// q, k and v are projected; this unit owns what happens between.

#include <ATen/core/Tensor.h>

#include "harness/model_config.h"
#include "harness/transformer.h"

namespace editgate::harness {

// key_mask [batch, past+pos] (1 token, 0 pad) -> [batch, 1, pos, past+pos] bool:
// causal and padding-aware. Every query may attend to itself, so rows of
// padding queries are never empty (an empty row would give NaN).
at::Tensor build_attention_mask(const at::Tensor& key_mask, int64_t past, int64_t pos);

// Appends k, v ([batch, n_kv_heads, pos, d_head]) to the cache's layer and returns the full ones.
std::pair<at::Tensor, at::Tensor> append_to_cache(KVCache* cache, int64_t layer, at::Tensor k, at::Tensor v);

// q [batch, n_heads, pos, d_head], k/v [batch, n_kv_heads, keys, d_head], mask [batch, 1, pos, keys]
// -> z [batch, pos, n_heads, d_head]. Repeats k/v heads for grouped-query attention.
at::Tensor attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask);

// Gemma 3's sliding layers: `mask` [batch, 1, pos, past+pos] further limited to
// the last `window` keys of each query (transformers: key > query - window), by
// position in the sequence, padding included, as transformers counts them.
at::Tensor restrict_to_window(const at::Tensor& mask, int64_t past, int64_t window);

// attend() with the scores scaled by `scale` instead of 1/sqrt(d_head) (Gemma's
// query_pre_attn_scalar^-0.5); 0 means 1/sqrt(d_head).
at::Tensor attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask, double scale);

// Rotary embedding of the first config.rotary_dim dimensions of each head (all
// when 0), the rest passed through: HF Llama's and NeoX's rotate_half pairing,
// or GPT-J's rotate_every_two when config.rotary_interleaved.
class RotaryEmbedding {
 public:
  RotaryEmbedding(const ModelConfig& config, at::Device device);
  // x [batch, heads, pos, d_head], position_ids [batch, pos] -> rotated x.
  at::Tensor apply(const at::Tensor& x, const at::Tensor& position_ids) const;

 private:
  int64_t dim_ = 0;            // rotated dimensions per head
  bool interleaved_ = false;   // GPT-J pairing
  at::Tensor inv_freq_;        // [dim_ / 2] float32
};

}  // namespace editgate::harness
