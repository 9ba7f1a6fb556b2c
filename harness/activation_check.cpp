#include "harness/activation_check.h"

#include <ATen/ATen.h>

#include <optional>
#include <vector>

#include "harness/hooks.h"
#include "harness/input_error.h"

namespace editgate::harness {
namespace {

// True when `t` [batch, pos, ...] holds a NaN or Inf at a real token.
bool non_finite_at_real_tokens(const at::Tensor& t, const at::Tensor& mask) {
  auto bad = at::logical_not(at::isfinite(t.reshape({t.size(0), t.size(1), -1}))).any(-1);  // [batch, pos]
  if (mask.defined()) bad = bad.logical_and(mask.to(bad.device()).to(at::kBool));
  return bad.any().item<bool>();
}

}  // namespace

void require_finite_logits(Transformer& model, const at::Tensor& logits, const at::Tensor& ids,
                           const ForwardOptions& options, const at::Tensor& mask) {
  // Logits at chosen positions (ForwardOptions::logit_positions) are at real tokens by
  // contract, so the [batch, pos] mask applies only to logits at every column.
  const at::Tensor logits_mask = options.logit_positions.defined() ? at::Tensor() : mask;
  if (!non_finite_at_real_tokens(logits, logits_mask)) return;
  // Locate it: the first hook point, in forward order, with a non-finite value.
  std::optional<HookPoint> first;
  std::vector<HookHandle> handles;
  for (int64_t l = 0; l < model.config().n_layers; ++l) {
    for (int s = 0; s < kNumHookSites; ++s) {
      const HookPoint point{l, static_cast<HookSite>(s)};
      handles.push_back(model.hooks().add(point, [&first, &mask](at::Tensor& act, const HookContext& ctx) {
        if (!first && non_finite_at_real_tokens(act, mask)) first = ctx.point;
      }));
    }
  }
  (void)model.forward(ids, options);
  handles.clear();
  const std::string where = first ? first->to_string() : "the final norm or unembedding";
  throw InputError(model.config().source, where, "finite activations", "NaN or Inf (first at this hook point)",
                   "the weights overflow: a damaged or badly scaled checkpoint; do not ship it");
}

}  // namespace editgate::harness
