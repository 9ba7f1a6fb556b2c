#include "editors/mend.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <fmt/format.h>
#include <torch/optim/adam.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <random>
#include <set>

#include "editors/context_templates.h"
#include "editors/mend_factors.h"
#include "editors/target_batch.h"
#include "harness/input_error.h"
#include "harness/progress.h"
#include "harness/scoring.h"

namespace editgate::editors {
namespace {

using Clock = std::chrono::steady_clock;

// Puts graph tensors in place of model parameters for the forward passes of
// one training edit, so the loss is differentiable in the hypernetwork; the
// original tensors are put back when it goes out of scope (also on an exception).
class WeightOverride {
 public:
  explicit WeightOverride(harness::Transformer& model) : model_(model) {}
  ~WeightOverride() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) model_.parameter(it->first) = it->second;
  }
  WeightOverride(const WeightOverride&) = delete;
  WeightOverride& operator=(const WeightOverride&) = delete;

  // `w` [d_out, d_in] as the editors see the weight.
  void set(const std::string& stable_name, const at::Tensor& w) {
    const auto ref = model_.weight_ref(stable_name);
    auto& slot = model_.parameter(ref.tensor_name);
    saved_.emplace_back(ref.tensor_name, slot);
    slot = ref.transposed ? w.t() : w;
  }

 private:
  harness::Transformer& model_;
  std::vector<std::pair<std::string, at::Tensor>> saved_;  // HF name, original tensor
};

TargetBatch rewrite_batch(const harness::TextModel& tm, const std::vector<EditRequest>& requests) {
  std::vector<TargetRow> rows;
  for (const auto& r : requests) {
    rows.push_back({r.filled_prompt(), encode_target(tm, r.target_new, r.case_id, "requested_rewrite.target_new")});
  }
  return make_target_batch(tm, rows, tm.model().device());
}

// The edit loss's rows: the rewrite prompt and its paraphrases, each with the new target.
TargetBatch edit_loss_batch(const harness::TextModel& tm, const EditRequest& r) {
  const auto target = encode_target(tm, r.target_new, r.case_id, "requested_rewrite.target_new");
  std::vector<TargetRow> rows{{r.filled_prompt(), target}};
  for (const auto& p : r.paraphrase_prompts) rows.push_back({p, target});
  return make_target_batch(tm, rows, tm.model().device());
}

// The locality prompts of request `k`: its neighbourhood prompts and n_loc
// rewrite prompts of other training requests about other subjects.
harness::PaddedBatch locality_batch(const harness::TextModel& tm, const std::vector<EditRequest>& requests, size_t k,
                                    int64_t n_loc, std::mt19937_64& rng) {
  std::vector<std::vector<int64_t>> rows;
  for (const auto& p : requests[k].neighborhood_prompts) rows.push_back(tm.encode_prompt(p));
  std::uniform_int_distribution<size_t> pick(0, requests.size() - 1);
  for (int64_t n = 0, tries = 0; n < n_loc && tries < 10 * n_loc; ++tries) {
    const auto& o = requests[pick(rng)];
    if (o.subject == requests[k].subject) continue;
    rows.push_back(tm.encode_prompt(o.filled_prompt()));
    ++n;
  }
  if (rows.empty()) rows.push_back(tm.encode_prompt(requests[k].filled_prompt()));  // no locality term possible
  auto b = harness::pad_batch(rows, harness::Padding::kRight);
  b.ids = b.ids.to(tm.model().device());
  b.mask = b.mask.to(tm.model().device());
  return b;
}

struct LossParts {
  at::Tensor loss, edit, loc;  // [] f32
};

// The loss of one edit: the weights replaced by W - dW (graph tensors) for the
// edit and locality forward passes. `base_logp` [rows, pos, vocab] of the
// locality batch on the unedited model.
LossParts edited_loss(harness::TextModel& tm, const MendNetwork& net, const std::vector<MendFactors>& factors,
                      const TargetBatch& edit, const harness::PaddedBatch& loc, const at::Tensor& base_logp,
                      const MendHparams& h) {
  auto& model = tm.model();
  WeightOverride override_weights(model);
  for (size_t i = 0; i < factors.size(); ++i) {
    const auto& name = net.weights()[i];
    override_weights.set(name, model.weight(name) - net.update(i, factors[i]));
  }
  harness::ForwardOptions fe;
  fe.attention_mask = edit.mask;
  const auto edit_nll = target_nll(model.forward(edit.ids, fe), edit);
  harness::ForwardOptions fl;
  fl.attention_mask = loc.mask;
  const auto logp = at::log_softmax(model.forward(loc.ids, fl).to(at::kFloat), -1);
  const auto mask = loc.mask.to(at::kFloat);
  // KL(base || edited) per position, averaged over the non-padding positions.
  const auto kl = ((base_logp.exp() * (base_logp - logp)).sum(-1) * mask).sum() / mask.sum();
  return {h.cedit * edit_nll + h.cloc * kl, edit_nll, kl};
}

at::Tensor base_log_probs(harness::TextModel& tm, const harness::PaddedBatch& loc) {
  c10::NoGradGuard ng;
  harness::ForwardOptions fo;
  fo.attention_mask = loc.mask;
  return at::log_softmax(tm.model().forward(loc.ids, fo).to(at::kFloat), -1);
}

}  // namespace

MendNetwork make_mend_network(const harness::TextModel& tm, const MendHparams& h, uint64_t seed,
                              const std::string& source) {
  const auto& model = tm.model();
  std::vector<MendShape> shapes;
  std::set<std::string> seen;
  for (const auto& w : h.inner_params) {
    check_mend_weight(model, w, source);
    if (!seen.insert(w).second) throw InputError(source, "inner_params", "each weight once", w + " twice");
    const auto& c = model.config();
    const bool w_in = w.ends_with("W_in");
    shapes.push_back(w_in ? MendShape{c.d_model, c.d_mlp} : MendShape{c.d_mlp, c.d_model});
  }
  return MendNetwork(h.inner_params, shapes, h.rank, h.n_hidden, h.edit_lr, seed, model.device(), h.hidden_bias);
}

MendTrainResult train_mend(harness::TextModel& tm, MendNetwork& net, const std::vector<EditRequest>& requests,
                           const MendHparams& h, const MendTrainOptions& o) {
  TORCH_CHECK(!requests.empty(), "train_mend: no requests");
  const auto t0 = Clock::now();
  const int64_t steps = o.steps >= 0 ? o.steps : h.max_iters;
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(net.network_parameters(), std::make_unique<torch::optim::AdamOptions>(h.lr));
  if (h.lr_lr > 0) groups.emplace_back(net.alphas(), std::make_unique<torch::optim::AdamOptions>(h.lr_lr));
  torch::optim::Adam opt(std::move(groups), torch::optim::AdamOptions(h.lr));

  std::mt19937_64 rng(o.seed);
  std::vector<size_t> order(requests.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  size_t next = order.size();  // reshuffled at the first draw
  std::optional<harness::ProgressBar> bar;
  if (o.show_progress) bar.emplace("mend train", steps, "steps");

  MendTrainResult out;
  for (int64_t step = 0; step < steps; ++step) {
    double loss = 0, edit = 0, loc = 0;
    opt.zero_grad();
    for (int64_t b = 0; b < h.batch_size; ++b) {
      if (next == order.size()) {
        std::shuffle(order.begin(), order.end(), rng);
        next = 0;
      }
      const size_t k = order[next++];
      const auto& r = requests[k];
      const auto factors = capture_factors(tm, net.weights(), rewrite_batch(tm, {r}));
      for (size_t i = 0; i < factors.size(); ++i) net.observe(i, factors[i]);
      const auto locb = locality_batch(tm, requests, k, h.n_loc, rng);
      const auto base = base_log_probs(tm, locb);
      c10::AutoGradMode grad(true);
      const auto parts = edited_loss(tm, net, factors, edit_loss_batch(tm, r), locb, base, h);
      (parts.loss / static_cast<double>(h.batch_size)).backward();
      loss += parts.loss.item<double>();
      edit += parts.edit.item<double>();
      loc += parts.loc.item<double>();
    }
    opt.step();
    const auto n = static_cast<double>(h.batch_size);
    out.losses.push_back(loss / n);
    out.edit_losses.push_back(edit / n);
    out.loc_losses.push_back(loc / n);
    ++out.steps;
    if (bar) bar->update(step + 1, fmt::format("loss {:.4f} edit NLL {:.3f} KL {:.4f}", loss / n, edit / n, loc / n));
  }
  if (bar) bar->finish();
  out.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return out;
}

MendLoss mend_loss(harness::TextModel& tm, const MendNetwork& net, const std::vector<EditRequest>& requests,
                   const MendHparams& h) {
  std::mt19937_64 rng(0);  // the same unrelated prompts for every network
  MendLoss out;
  for (size_t k = 0; k < requests.size(); ++k) {
    const auto factors = capture_factors(tm, net.weights(), rewrite_batch(tm, {requests[k]}));
    const auto locb = locality_batch(tm, requests, k, h.n_loc, rng);
    const auto base = base_log_probs(tm, locb);
    c10::NoGradGuard ng;
    const auto parts = edited_loss(tm, net, factors, edit_loss_batch(tm, requests[k]), locb, base, h);
    out.loss += parts.loss.item<double>();
    out.edit += parts.edit.item<double>();
    out.loc += parts.loc.item<double>();
  }
  const auto n = static_cast<double>(requests.size());
  return {out.loss / n, out.edit / n, out.loc / n};
}

std::vector<at::Tensor> mend_updates(harness::TextModel& tm, const MendNetwork& net,
                                     const std::vector<EditRequest>& requests) {
  const auto factors = capture_factors(tm, net.weights(), rewrite_batch(tm, requests));
  c10::NoGradGuard ng;
  std::vector<at::Tensor> out;
  for (size_t i = 0; i < factors.size(); ++i) out.push_back(net.update(i, factors[i]));
  return out;
}

std::vector<MendEditResult> apply_mend(harness::TextModel& tm, const MendNetwork& net,
                                       const std::vector<EditRequest>& requests) {
  auto& model = tm.model();
  std::vector<MendEditResult> out;
  for (const auto& r : requests) {
    const auto t0 = Clock::now();
    MendEditResult res;
    res.case_id = r.case_id;
    const auto batch = rewrite_batch(tm, {r});
    const auto factors = capture_factors(tm, net.weights(), batch, &res.nll_before);
    c10::NoGradGuard ng;
    for (size_t i = 0; i < factors.size(); ++i) {
      const auto dw = net.update(i, factors[i]);
      model.weight(net.weights()[i]).sub_(dw.to(model.weight(net.weights()[i]).scalar_type()));
      res.update_norms.push_back(dw.norm().item<double>());
    }
    harness::ForwardOptions fo;
    fo.attention_mask = batch.mask;
    res.nll_after = target_nll(model.forward(batch.ids, fo), batch).item<double>();
    res.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    out.push_back(std::move(res));
  }
  return out;
}

}  // namespace editgate::editors
