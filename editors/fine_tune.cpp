#include "editors/fine_tune.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <fmt/format.h>
#include <torch/optim/adam.h>

#include "editors/context_templates.h"
#include "harness/scoring.h"

namespace editgate::editors {

FineTuneResult apply_fine_tune(harness::TextModel& tm, const std::vector<EditRequest>& requests, const FtHparams& h) {
  auto& model = tm.model();
  const auto dev = model.device();
  const auto ref = model.weight_ref(fmt::format("blocks.{}.mlp.W_out", h.layer));
  auto& param = model.parameter(ref.tensor_name);
  const auto original = param.detach().clone();

  // Teacher-forced rows: prompt + target[:-1]; the loss reads the target tokens' positions.
  std::vector<std::vector<int64_t>> rows;
  std::vector<int64_t> t_row, t_pos, t_tok;
  std::vector<float> t_w;
  for (size_t i = 0; i < requests.size(); ++i) {
    const auto& r = requests[i];
    auto ids = tm.encode_prompt(r.filled_prompt());
    const auto target = encode_target(tm, r.target_new, r.case_id, "requested_rewrite.target_new");
    for (size_t j = 0; j < target.size(); ++j) {
      t_row.push_back(static_cast<int64_t>(i));
      t_pos.push_back(static_cast<int64_t>(ids.size() + j) - 1);
      t_tok.push_back(target[j]);
      t_w.push_back(1.0F / static_cast<float>(target.size() * requests.size()));
    }
    ids.insert(ids.end(), target.begin(), target.end() - 1);
    rows.push_back(std::move(ids));
  }
  const auto padded = harness::pad_batch(rows, harness::Padding::kRight);
  harness::ForwardOptions fo;
  fo.attention_mask = padded.mask.to(dev);
  const auto ids = padded.ids.to(dev);
  const auto row = at::tensor(t_row, at::kLong).to(dev), pos = at::tensor(t_pos, at::kLong).to(dev);
  const auto tok = at::tensor(t_tok, at::kLong).to(dev), w = at::tensor(t_w, at::kFloat).to(dev);

  c10::AutoGradMode grad(true);
  param.requires_grad_(true);
  torch::optim::Adam opt({param}, torch::optim::AdamOptions(h.lr).weight_decay(h.weight_decay));
  FineTuneResult out;
  for (int64_t step = 0; step < h.num_steps; ++step) {
    const auto logits = model.forward(ids, fo);  // [rows, pos, vocab]
    const auto lp = at::log_softmax(logits.index({row, pos}).to(at::kFloat), -1).gather(1, tok.unsqueeze(1)).squeeze(1);
    const auto loss = -(lp * w).sum();
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
