#include "editors/grace.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <torch/optim/adam.h>

#include <chrono>
#include <memory>

#include "editors/context_templates.h"
#include "harness/hooks.h"

namespace editgate::editors {
namespace {

using harness::Codebook;
using harness::HookSite;

// The layer's input (key) and output at the prompt's last token, without a codebook.
struct Query {
  at::Tensor key;     // [d_mlp] float32 CPU
  at::Tensor output;  // [d_model] float32 CPU
};

Query read_query(harness::TextModel& tm, const std::vector<int64_t>& prompt, int64_t layer) {
  c10::NoGradGuard ng;
  auto key = std::make_shared<at::Tensor>(), out = std::make_shared<at::Tensor>();
  {
    auto hk = tm.model().hooks().add({layer, HookSite::kMlpPost}, harness::cache_into(key));
    auto ho = tm.model().hooks().add({layer, HookSite::kMlpOut}, harness::cache_into(out));
    tm.model().forward(at::tensor(prompt, at::kLong).unsqueeze(0).to(tm.model().device()));
  }
  const auto last = static_cast<int64_t>(prompt.size()) - 1;
  return {(*key)[0][last].to(at::kCPU, at::kFloat), (*out)[0][last].to(at::kCPU, at::kFloat)};
}

void append_entry(Codebook& c, const at::Tensor& key, const at::Tensor& value, double radius, const EditRequest& r) {
  c.keys = at::cat({c.keys, key.unsqueeze(0)});
  c.values = at::cat({c.values, value.unsqueeze(0)});
  c.radii = at::cat({c.radii, at::full({1}, radius, at::kFloat)});
  c.labels.push_back(r.target_new);
  c.case_ids.push_back({r.case_id});
}

// GRACE's codebook rules for one new key; returns the entry the edit trains.
int64_t place_key(Codebook& c, const Query& q, const EditRequest& r, const GraceHparams& h, GraceEditResult& res) {
  const auto init_value = h.value_init == "warm" ? q.output.clone() : at::rand_like(q.output);
  if (c.size() == 0) {
    append_entry(c, q.key, init_value, h.eps, r);
    res.action = "added";
    return 0;
  }
  const auto dists = (c.keys - q.key.unsqueeze(0)).norm(2, {1});  // [n]
  const int64_t k = dists.argmin().item<int64_t>();
  const double d = dists[k].item<double>();
  const double radius = c.radii[k].item<double>();
  res.distance = d;
  if (d > h.eps + radius) {  // no ball overlaps the new one
    append_entry(c, q.key, init_value, h.eps, r);
    res.action = "added";
    return c.size() - 1;
  }
  if (c.labels[static_cast<size_t>(k)] != r.target_new) {
    // Conflict: both keys keep a ball, each reaching half-way (the reference's split_epsilons_in_half).
    append_entry(c, q.key, init_value, d / 2, r);
    c.radii[k] = std::max(0.0, d / 2 - 1e-5);
    res.action = "split";
    return c.size() - 1;
  }
  c.case_ids[static_cast<size_t>(k)].push_back(r.case_id);
  res.action = "covered";
  if (d > radius) {
    if (h.eps_expand == "moving_average") c.keys[k] = 0.5 * c.keys[k] + 0.5 * q.key;
    c.radii[k] = d;
    res.action = "expanded";
  }
  return k;
}

// Adam on the value that replaces the layer's output at the prompt's last token,
// other entries of the installed codebook acting as at inference.
void train_value(harness::TextModel& tm, Codebook& c, int64_t entry, const std::vector<int64_t>& prompt,
                 const std::vector<int64_t>& target, const GraceHparams& h, GraceEditResult& res) {
  auto& model = tm.model();
  const auto dev = model.device();
  std::vector<int64_t> ids = prompt;
  ids.insert(ids.end(), target.begin(), target.end() - 1);  // teacher forcing
  const auto input = at::tensor(ids, at::kLong).unsqueeze(0).to(dev);
  const int64_t last = static_cast<int64_t>(prompt.size()) - 1;
  const auto pos = at::arange(last, last + static_cast<int64_t>(target.size()), at::kLong).to(dev);
  const auto tgt = at::tensor(target, at::kLong).to(dev);
  auto v = c.values[entry].to(dev).clone().unsqueeze(0).requires_grad_(true);  // [1, d_model]
  c10::AutoGradMode grad(true);
  const auto hook = model.hooks().add({h.layer, HookSite::kMlpOut}, harness::replace_at_positions({last}, v));
  torch::optim::Adam opt({v}, torch::optim::AdamOptions(h.lr));
  for (int64_t it = 0; it < h.num_steps; ++it) {
    const auto logits = model.forward(input)[0].index_select(0, pos).to(at::kFloat);  // [target, vocab]
    const auto nll = -at::log_softmax(logits, -1).gather(1, tgt.unsqueeze(1)).mean();
    res.nll = nll.item<double>();
    res.steps = it;
    if (res.nll < h.early_stop_loss) {
      res.early_stopped = true;
      break;
    }
    opt.zero_grad();
    nll.backward();
    opt.step();
    res.steps = it + 1;
  }
  c.values[entry] = v.detach()[0].to(at::kCPU, at::kFloat);
}

}  // namespace

std::vector<GraceEditResult> apply_grace(harness::TextModel& tm, const std::vector<EditRequest>& requests,
                                         const GraceHparams& h, Codebook& codebook) {
  TORCH_CHECK(codebook.layer == h.layer, "apply_grace: codebook at layer ", codebook.layer, ", hparams at ", h.layer);
  codebook.check(tm.model().config(), "codebook");
  std::vector<GraceEditResult> out;
  for (const auto& r : requests) {
    const auto t0 = std::chrono::steady_clock::now();
    GraceEditResult res;
    res.case_id = r.case_id;
    const auto prompt = tm.encode_prompt(r.filled_prompt());
    const auto target = encode_target(tm, r.target_new, r.case_id, "requested_rewrite.target_new");
    // The key does not depend on the codebook (it is read upstream of the
    // replacement); the warm value is the base layer's output, as in the reference.
    tm.install_codebook(Codebook::empty(tm.model().config(), h.layer));
    const auto q = read_query(tm, prompt, h.layer);
    res.entry = place_key(codebook, q, r, h, res);
    tm.install_codebook(codebook);
    train_value(tm, codebook, res.entry, prompt, target, h, res);
    tm.install_codebook(codebook);  // with the trained value
    res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    out.push_back(std::move(res));
  }
  return out;
}

void remove_codebook_entry(Codebook& c, int64_t index) {
  TORCH_CHECK(index >= 0 && index < c.size(), "remove_codebook_entry: index ", index, " outside [0, ", c.size(), ")");
  const auto keep = at::cat({at::arange(0, index, at::kLong), at::arange(index + 1, c.size(), at::kLong)});
  c.keys = c.keys.index_select(0, keep);
  c.values = c.values.index_select(0, keep);
  c.radii = c.radii.index_select(0, keep);
  c.labels.erase(c.labels.begin() + index);
  c.case_ids.erase(c.case_ids.begin() + index);
}

int64_t remove_grace_edit(Codebook& c, const std::string& case_id) {
  int64_t removed = 0;
  for (int64_t i = c.size() - 1; i >= 0; --i) {
    auto& ids = c.case_ids[static_cast<size_t>(i)];
    const auto n = ids.size();
    std::erase(ids, case_id);
    if (ids.size() == n || !ids.empty()) continue;
    remove_codebook_entry(c, i);
    ++removed;
  }
  return removed;
}

}  // namespace editgate::editors
