#pragma once
// Transformer: the model runtime. Holds the parameters (by their HF tensor
// names), runs the forward pass of one architecture with hook points, and
// exposes editable weights under stable names. Each architecture is one file
// (gpt2_model.cpp, llama_model.cpp) registered in architectures.cpp; this unit
// owns what they share. Loading and saving checkpoints is checkpoint.h's job.

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "harness/hooks.h"
#include "harness/model_config.h"

namespace editgate::harness {

// Keys and values of earlier tokens, appended to by each cached forward pass.
struct KVCache {
  std::vector<at::Tensor> keys;    // per layer [batch, n_kv_heads, past, d_head]
  std::vector<at::Tensor> values;  // per layer [batch, n_kv_heads, past, d_head]
  at::Tensor mask;                 // [batch, past] 1 for tokens, 0 for padding
  int64_t length() const { return mask.defined() ? mask.size(1) : 0; }
};

struct ForwardOptions {
  at::Tensor attention_mask;  // [batch, pos] 1 for tokens, 0 for padding; undefined: all ones
  at::Tensor position_ids;    // [batch, pos]; undefined: counted over non-padding tokens (cache included)
  KVCache* cache = nullptr;   // when given, earlier tokens are read from it and these appended
  // [batch, k] int64 columns of input_ids: forward returns logits there only, [batch, k, vocab];
  // undefined: at every column. Scoring reads a few positions per row and the unembedding is a
  // large share of a small model's work (GPT-2 small: 39M of its 124M weights), so it runs
  // only where read.
  at::Tensor logit_positions;
};

// Where a stable weight name lives in the checkpoint.
struct WeightRef {
  std::string tensor_name;  // HF name, e.g. transformer.h.3.mlp.c_proj.weight
  bool transposed = false;  // true when stored [in, out] (GPT-2 Conv1D)
};

class Transformer {
 public:
  Transformer(ModelConfig config, std::map<std::string, at::Tensor> params, at::Device device);
  virtual ~Transformer() = default;
  Transformer(const Transformer&) = delete;
  Transformer& operator=(const Transformer&) = delete;

  // input_ids [batch, pos] int64 -> logits [batch, pos, vocab] ([batch, k, vocab] with logit_positions)
  at::Tensor forward(const at::Tensor& input_ids, const ForwardOptions& options = {});

  const ModelConfig& config() const { return config_; }
  at::Device device() const { return device_; }
  HookRegistry& hooks() { return hooks_; }

  // Parameters by HF tensor name, as written to model.safetensors.
  const std::map<std::string, at::Tensor>& parameters() const { return params_; }
  at::Tensor& parameter(const std::string& name);

  // Editable weights by stable name ("blocks.{l}.mlp.W_out", "blocks.{l}.mlp.W_in",
  // "blocks.{l}.attn.W_O", ...), always as [d_out, d_in]. The returned tensor is a
  // view of the parameter: in-place updates (add_) edit the model.
  at::Tensor weight(std::string_view stable_name);
  WeightRef weight_ref(std::string_view stable_name) const;
  std::vector<std::string> editable_weight_names() const;

  // Tensors the architecture expects, with shapes, for checkpoint validation.
  virtual std::map<std::string, std::vector<int64_t>> expected_tensors() const = 0;
  // Tensor names that may be absent (tied lm_head) or present and ignored (GPT-2 attn.bias buffers).
  virtual bool is_optional_tensor(const std::string& name) const = 0;
  // HF name of the token embedding matrix [vocab, d_model] (causal tracing scales its noise by it).
  virtual std::string token_embedding_name() const = 0;
  const at::Tensor& token_embedding() const { return p(token_embedding_name()); }
  // The factor the architecture multiplies token embeddings by before layer 0
  // (Gemma: sqrt(d_model)); causal tracing's noise is relative to what the blocks see.
  virtual double embedding_scale() const { return 1.0; }
  // How a small change at W_out's output (hook_w_out) reaches hook_mlp_out, per
  // element, at W_out outputs `w_out` [n, d_model]: undefined where hook_mlp_out is
  // W_out's output. Gemma's post_feedforward_layernorm scales it by
  // (1 + weight) / rms(w_out) (its Jacobian but for the part along w_out, which the
  // norm removes). MEMIT divides its residual targets by it.
  virtual at::Tensor mlp_out_gain(int64_t /*layer*/, const at::Tensor& /*w_out*/) const { return {}; }
  virtual bool has_post_mlp_norm() const { return false; }

 protected:
  // Embedding, blocks and unembedding of one architecture. `mask4d` [batch, 1, pos, past+pos]
  // (true = may attend), `position_ids` [batch, pos]; `logit_positions` as ForwardOptions'
  // (the architecture passes its final hidden state through at_logit_positions before the final norm).
  virtual at::Tensor run(const at::Tensor& input_ids, const at::Tensor& mask4d, const at::Tensor& position_ids,
                         KVCache* cache, int64_t past, const at::Tensor& logit_positions) = 0;
  // The rows of `x` [batch, pos, d] at `positions` [batch, k] ([batch, k, d]); x itself when undefined.
  static at::Tensor at_logit_positions(const at::Tensor& x, const at::Tensor& positions);
  // Stable-name mapping of one architecture: nullopt-like empty tensor_name for unknown names.
  virtual WeightRef map_weight(std::string_view stable_name) const = 0;

  const at::Tensor& p(const std::string& name) const;  // parameter that must exist
  at::Tensor hook(HookSite site, int64_t layer, at::Tensor x, int64_t past) {
    const HookPoint point{layer, site};
    return hooks_.active(point) ? hooks_.run(point, std::move(x), past) : x;
  }

  ModelConfig config_;
  std::map<std::string, at::Tensor> params_;  // by HF name, on device_
  at::Device device_;
  HookRegistry hooks_;
};

// Splits "blocks.{l}.{rest}" into (l, rest); false when the name has another form.
bool split_stable_name(std::string_view name, int64_t& layer, std::string& rest);

// Stable name -> tensor in the layout Llama and Gemma checkpoints share
// (model.layers.{l}.mlp.up_proj = W_in, gate_proj = W_gate, down_proj = W_out,
// self_attn.q/k/v/o_proj = attn.W_Q/K/V/O); empty tensor_name when unknown.
WeightRef llama_layout_weight(std::string_view stable_name, int64_t n_layers);

// Creates the architecture for config.model_type (architectures.cpp).
std::unique_ptr<Transformer> make_transformer(ModelConfig config, std::map<std::string, at::Tensor> params,
                                              at::Device device);

}  // namespace editgate::harness
