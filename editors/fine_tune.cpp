#include "editors/fine_tune.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <fmt/format.h>
#include <torch/optim/adam.h>

#include "editors/context_templates.h"
#include "editors/target_batch.h"

namespace editgate::editors {

FineTuneResult apply_fine_tune(harness::TextModel& tm, const std::vector<EditRequest>& requests, const FtHparams& h) {
  auto& model = tm.model();
  const auto dev = model.device();
  const auto ref = model.weight_ref(fmt::format("blocks.{}.mlp.W_out", h.layer));
  auto& param = model.parameter(ref.tensor_name);
  const auto original = param.detach().clone();

  // Teacher-forced rows: prompt + target[:-1]; the loss reads the target tokens' positions.
  std::vector<TargetRow> rows;
  for (const auto& r : requests) {
    rows.push_back({r.filled_prompt(), encode_target(tm, r.target_new, r.case_id, "requested_rewrite.target_new")});
  }
  const auto batch = make_target_batch(tm, rows, dev);
  harness::ForwardOptions fo;
  fo.attention_mask = batch.mask;

  c10::AutoGradMode grad(true);
  param.requires_grad_(true);
  torch::optim::Adam opt({param}, torch::optim::AdamOptions(h.lr).weight_decay(h.weight_decay));
  FineTuneResult out;
  for (int64_t step = 0; step < h.num_steps; ++step) {
    const auto loss = target_nll(model.forward(batch.ids, fo), batch);
    out.losses.push_back(loss.item<double>());
    if (out.losses.back() < 1e-2) break;  // the reference's stopping rule
    opt.zero_grad();
    loss.backward();
    opt.step();
    c10::NoGradGuard ng;
    param.copy_(at::clamp(param, original - h.norm_constraint, original + h.norm_constraint));
  }
  param.requires_grad_(false);
  param.mutable_grad() = at::Tensor();
  return out;
}

}  // namespace editgate::editors
