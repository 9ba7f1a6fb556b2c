#include "harness/transformer.h"

#include <ATen/ATen.h>

#include "harness/attention.h"
#include "harness/input_error.h"

namespace editgate::harness {

Transformer::Transformer(ModelConfig config, std::map<std::string, at::Tensor> params, at::Device device)
    : config_(std::move(config)), params_(std::move(params)), device_(device), hooks_(config_.n_layers) {}

at::Tensor Transformer::forward(const at::Tensor& input_ids, const ForwardOptions& options) {
  TORCH_CHECK(input_ids.dim() == 2, "forward: input_ids must be [batch, pos], got ", input_ids.sizes());
  const auto ids = input_ids.to(device_, at::kLong);
  const int64_t batch = ids.size(0);
  const int64_t pos = ids.size(1);
  KVCache* cache = options.cache;
  const int64_t past = cache != nullptr ? cache->length() : 0;
  TORCH_CHECK(past + pos <= config_.max_positions || config_.model_type != "gpt2", "sequence of ",
              past + pos, " tokens exceeds n_positions=", config_.max_positions);

  auto mask = options.attention_mask.defined() ? options.attention_mask.to(device_, at::kLong)
                                               : at::ones({batch, pos}, ids.options());
  TORCH_CHECK(mask.sizes() == ids.sizes(), "attention_mask ", mask.sizes(), " != input_ids ", ids.sizes());
  const auto key_mask = past > 0 ? at::cat({cache->mask, mask}, 1) : mask;

  at::Tensor position_ids = options.position_ids;
  if (!position_ids.defined()) {
    // Position = number of real tokens before this one, so left padding and
    // cached generation give each row the positions it would have unpadded.
    position_ids = (key_mask.cumsum(1) - 1).clamp_min(0).narrow(1, past, pos);
  }
  position_ids = position_ids.to(device_, at::kLong);
  TORCH_CHECK(position_ids.sizes() == ids.sizes(), "position_ids ", position_ids.sizes(), " != input_ids ",
              ids.sizes());

  at::Tensor logit_positions;
  if (options.logit_positions.defined()) {
    logit_positions = options.logit_positions.to(device_, at::kLong);
    TORCH_CHECK(logit_positions.dim() == 2 && logit_positions.size(0) == batch, "logit_positions must be [",
                batch, ", k], got ", logit_positions.sizes());
    TORCH_CHECK(logit_positions.numel() == 0 ||
                    (logit_positions.min().item<int64_t>() >= 0 && logit_positions.max().item<int64_t>() < pos),
                "logit_positions must be columns in [0, ", pos, ")");
  }
  const auto mask4d = build_attention_mask(key_mask, past, pos);
  auto logits = run(ids, mask4d, position_ids, cache, past, logit_positions);
  if (cache != nullptr) cache->mask = key_mask;
  return logits;
}

at::Tensor Transformer::at_logit_positions(const at::Tensor& x, const at::Tensor& positions) {
  if (!positions.defined()) return x;
  return x.gather(1, positions.unsqueeze(-1).expand({positions.size(0), positions.size(1), x.size(-1)}));
}

at::Tensor& Transformer::parameter(const std::string& name) {
  auto it = params_.find(name);
  TORCH_CHECK(it != params_.end(), "no parameter named ", name);
  return it->second;
}

const at::Tensor& Transformer::p(const std::string& name) const {
  auto it = params_.find(name);
  TORCH_CHECK(it != params_.end(), "no parameter named ", name);
  return it->second;
}

WeightRef Transformer::weight_ref(std::string_view stable_name) const {
  WeightRef ref = map_weight(stable_name);
  if (ref.tensor_name.empty() || params_.count(ref.tensor_name) == 0) {
    std::string valid;
    for (const auto& n : editable_weight_names()) {
      if (n.starts_with("blocks.0.")) valid += (valid.empty() ? "" : ", ") + n;
    }
    throw InputError("", "weight", "a stable weight name such as " + valid + " (layers 0.." +
                                        std::to_string(config_.n_layers - 1) + ")",
                     "'" + std::string(stable_name) + "'");
  }
  return ref;
}

at::Tensor Transformer::weight(std::string_view stable_name) {
  const WeightRef ref = weight_ref(stable_name);
  at::Tensor& t = params_.at(ref.tensor_name);
  return ref.transposed ? t.t() : t;
}

std::vector<std::string> Transformer::editable_weight_names() const {
  std::vector<std::string> names;
  for (int64_t l = 0; l < config_.n_layers; ++l) {
    for (const char* w : {"mlp.W_in", "mlp.W_gate", "mlp.W_out", "attn.W_Q", "attn.W_K", "attn.W_V", "attn.W_O"}) {
      std::string name = "blocks." + std::to_string(l) + "." + w;
      const WeightRef ref = map_weight(name);
      if (!ref.tensor_name.empty() && params_.count(ref.tensor_name) != 0) names.push_back(std::move(name));
    }
  }
  return names;
}

bool split_stable_name(std::string_view name, int64_t& layer, std::string& rest) {
  constexpr std::string_view kPrefix = "blocks.";
  if (!name.starts_with(kPrefix)) return false;
  name.remove_prefix(kPrefix.size());
  const auto dot = name.find('.');
  if (dot == std::string_view::npos || dot == 0) return false;
  layer = 0;
  for (char ch : name.substr(0, dot)) {
    if (ch < '0' || ch > '9' || layer > 1'000'000) return false;
    layer = layer * 10 + (ch - '0');
  }
  rest = std::string(name.substr(dot + 1));
  return true;
}

WeightRef llama_layout_weight(std::string_view stable, int64_t n_layers) {
  int64_t l = 0;
  std::string rest;
  if (!split_stable_name(stable, l, rest) || l >= n_layers) return {};
  const std::string h = "model.layers." + std::to_string(l) + ".";
  if (rest == "mlp.W_in") return {h + "mlp.up_proj.weight", false};
  if (rest == "mlp.W_gate") return {h + "mlp.gate_proj.weight", false};
  if (rest == "mlp.W_out") return {h + "mlp.down_proj.weight", false};
  if (rest == "attn.W_Q") return {h + "self_attn.q_proj.weight", false};
  if (rest == "attn.W_K") return {h + "self_attn.k_proj.weight", false};
  if (rest == "attn.W_V") return {h + "self_attn.v_proj.weight", false};
  if (rest == "attn.W_O") return {h + "self_attn.o_proj.weight", false};
  return {};
}

}  // namespace editgate::harness
