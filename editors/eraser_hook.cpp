#include "editors/eraser_hook.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <memory>

#include "harness/input_error.h"
#include "harness/scoring.h"
#include "harness/steering_adapter.h"

namespace editgate::editors {
namespace {

using harness::HookContext;
using harness::HookSite;

void check_width(const harness::Transformer& model, harness::HookPoint point, const Eraser& eraser) {
  const int64_t width = hook_width(model.config(), point.site);
  if (eraser.dim() != width) {
    throw InputError("", "hook", "an eraser of width " + std::to_string(width) + " for " + point.to_string(),
                     "an eraser of width " + std::to_string(eraser.dim()),
                     "was it fitted at another hook point or on another model?");
  }
}

// The eraser cast to the activation's dtype, cached per dtype (the model's dtype does not change).
struct CastEraser {
  Eraser source;
  Eraser cast;
  const Eraser& get(const at::Tensor& act) {
    if (!cast.bias.defined() || cast.bias.scalar_type() != act.scalar_type() || cast.bias.device() != act.device()) {
      cast = source.to(act.device(), act.scalar_type());
    }
    return cast;
  }
};

}  // namespace

int64_t hook_width(const harness::ModelConfig& config, HookSite site) { return harness::hook_site_width(config, site); }

harness::HookHandle install_eraser(harness::Transformer& model, harness::HookPoint point, const Eraser& eraser) {
  check_width(model, point, eraser);
  auto cast = std::make_shared<CastEraser>(CastEraser{eraser.to(model.device(), at::kDouble), {}});
  return model.hooks().add(point, [cast](at::Tensor& act, const HookContext&) {
    const auto sizes = act.sizes().vec();                    // [batch, pos, ...]
    act = cast->get(act).apply(act.flatten(2)).view(sizes);  // erase over the flattened trailing dims
  });
}

harness::HookHandle install_eraser(harness::Transformer& model, harness::HookPoint point, const Eraser& eraser,
                                   std::vector<int64_t> positions) {
  check_width(model, point, eraser);
  auto cast = std::make_shared<CastEraser>(CastEraser{eraser.to(model.device(), at::kDouble), {}});
  return model.hooks().add(point, [cast, positions = std::move(positions)](at::Tensor& act, const HookContext& ctx) {
    TORCH_CHECK(static_cast<int64_t>(positions.size()) == act.size(0), "eraser hook at ", ctx.point.to_string(), ": ",
                positions.size(), " positions for a batch of ", act.size(0));
    const auto sizes = act.sizes().vec();  // [batch, pos, ...]
    const int64_t batch = act.size(0);
    const int64_t pos = act.size(1);
    // mask [batch, pos]: true at each row's position (shifted by the cached prefix).
    at::Tensor cols = at::tensor(positions, at::kLong).to(act.device()) - ctx.position_offset;  // [batch]
    at::Tensor mask = at::arange(pos, cols.options()).unsqueeze(0) == cols.unsqueeze(1);      // [batch, pos]
    if (!mask.any().item<bool>()) return;
    const at::Tensor flat = act.flatten(2);                                                   // [batch, pos, d]
    const at::Tensor erased = cast->get(act).apply(flat);
    // Out of place, so autograd sees the substitution (as replace_at_positions does).
    act = at::where(mask.view({batch, pos, 1}), erased, flat).view(sizes);
  });
}

at::Tensor collect_activations(harness::Transformer& model, harness::HookPoint point,
                               const std::vector<std::vector<int64_t>>& prompts, const std::vector<int64_t>& positions,
                               int64_t batch_size) {
  TORCH_CHECK(prompts.size() == positions.size(), "collect_activations: ", prompts.size(), " prompts but ",
              positions.size(), " positions");
  TORCH_CHECK(batch_size > 0, "collect_activations: batch_size must be > 0");
  c10::NoGradGuard no_grad;
  const int64_t n = static_cast<int64_t>(prompts.size());
  const int64_t width = hook_width(model.config(), point.site);
  std::vector<at::Tensor> chunks;
  for (int64_t start = 0; start < n; start += batch_size) {
    const int64_t end = std::min(n, start + batch_size);
    const std::vector<std::vector<int64_t>> rows(prompts.begin() + start, prompts.begin() + end);
    for (int64_t i = start; i < end; ++i) {
      TORCH_CHECK(positions[i] >= 0 && positions[i] < static_cast<int64_t>(prompts[i].size()), "position ",
                  positions[i], " outside prompt ", i, " of ", prompts[i].size(), " tokens");
    }
    const harness::PaddedBatch padded = harness::pad_batch(rows, harness::Padding::kRight);
    const at::Tensor cols = at::tensor(std::vector<int64_t>(positions.begin() + start, positions.begin() + end),
                                       at::kLong);  // [b]
    auto seen = std::make_shared<at::Tensor>();
    {
      auto handle = model.hooks().add(point, [seen, cols](at::Tensor& act, const HookContext&) {
        const at::Tensor flat = act.flatten(2);  // [b, pos, width]
        const at::Tensor idx = cols.to(flat.device()).view({-1, 1, 1}).expand({flat.size(0), 1, flat.size(2)});
        *seen = flat.gather(1, idx).squeeze(1).detach().to(at::kCPU, at::kFloat);  // [b, width]
      });
      // Logits at one column per row: none are read, and the unembedding over every column is a
      // large share of a small model's work.
      model.forward(padded.ids.to(model.device()),
                    harness::ForwardOptions{padded.mask.to(model.device()), {}, nullptr, cols.view({-1, 1}).to(model.device())});
    }
    TORCH_CHECK(seen->defined() && seen->size(1) == width, "hook ", point.to_string(), " did not run");
    chunks.push_back(*seen);
  }
  return chunks.empty() ? at::zeros({0, width}, at::kFloat) : at::cat(chunks, 0);
}

}  // namespace editgate::editors
