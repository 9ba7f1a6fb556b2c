#include "editors/mend_factors.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <fmt/format.h>

#include <memory>

#include "harness/input_error.h"

namespace editgate::editors {
namespace {

using harness::HookSite;

struct Site {
  int64_t layer = 0;
  bool w_in = false;  // W_in (else W_out)
};

Site parse_site(const harness::Transformer& model, const std::string& name, const std::string& source) {
  Site s;
  std::string rest;
  const auto& c = model.config();
  if (!harness::split_stable_name(name, s.layer, rest) || (rest != "mlp.W_in" && rest != "mlp.W_out")) {
    throw InputError(source, "inner_params", "blocks.{l}.mlp.W_in or blocks.{l}.mlp.W_out", name);
  }
  if (s.layer < 0 || s.layer >= c.n_layers) {
    throw InputError(source, "inner_params", fmt::format("layers in [0, {}) for this model", c.n_layers), name);
  }
  s.w_in = rest == "mlp.W_in";
  if (s.w_in && c.model_type != "gpt2") {
    throw InputError(source, "inner_params", "W_in only on GPT-2 models (W_out on any)", name + " on " + c.model_type);
  }
  return s;
}

}  // namespace

void check_mend_weight(const harness::Transformer& model, const std::string& name, const std::string& source) {
  parse_site(model, name, source);
}

std::vector<MendFactors> capture_factors(harness::TextModel& tm, const std::vector<std::string>& weights,
                                         const TargetBatch& batch, double* loss) {
  auto& model = tm.model();
  const auto& c = model.config();
  c10::AutoGradMode grad(true);
  // Per weight: the captured input (or, for W_in, the residual and attention
  // output it is computed from) and a zero leaf added to the layer's output.
  // The model's parameters do not require gradients; the leaves make every
  // output differentiable without cutting the paths between them, and their
  // gradients are dL/d(output).
  struct Capture {
    Site site;
    std::shared_ptr<at::Tensor> input = std::make_shared<at::Tensor>();  // [batch, pos, d_in]
    std::shared_ptr<at::Tensor> resid = std::make_shared<at::Tensor>();  // [batch, pos, d_model] W_in only
    std::shared_ptr<at::Tensor> attn = std::make_shared<at::Tensor>();   // [batch, pos, d_model] W_in only
    std::shared_ptr<at::Tensor> leaf = std::make_shared<at::Tensor>();   // [batch, pos, d_out]
  };
  const auto store = [](std::shared_ptr<at::Tensor> p) {
    return [p](at::Tensor& a, const harness::HookContext&) { *p = a.detach(); };
  };
  const auto tap = [](std::shared_ptr<at::Tensor> p) {
    return [p](at::Tensor& a, const harness::HookContext&) {
      *p = at::zeros_like(a).requires_grad_(true);
      a = a + *p;
    };
  };
  std::vector<Capture> caps;
  std::vector<harness::HookHandle> handles;
  for (const auto& w : weights) {
    Capture cap;
    cap.site = parse_site(model, w, "inner_params");
    const int64_t l = cap.site.layer;
    if (cap.site.w_in) {
      handles.push_back(model.hooks().add({l, HookSite::kResidPre}, store(cap.resid)));
      handles.push_back(model.hooks().add({l, HookSite::kAttnOut}, store(cap.attn)));
      handles.push_back(model.hooks().add({l, HookSite::kMlpPre}, tap(cap.leaf)));
    } else {
      handles.push_back(model.hooks().add({l, HookSite::kMlpPost}, store(cap.input)));
      // δ is the gradient at W_out's own output (before Gemma's post-MLP norm).
      handles.push_back(model.hooks().add({l, HookSite::kMlpWOut}, tap(cap.leaf)));
    }
    caps.push_back(std::move(cap));
  }
  harness::ForwardOptions fo;
  fo.attention_mask = batch.mask;
  const auto nll = target_nll(model.forward(batch.ids, fo), batch);
  if (loss != nullptr) *loss = nll.item<double>();
  nll.backward();
  handles.clear();

  c10::NoGradGuard ng;
  const auto keep = batch.mask.reshape({-1}).to(at::kBool);
  std::vector<MendFactors> out;
  for (auto& cap : caps) {
    TORCH_CHECK(cap.leaf->defined() && cap.leaf->grad().defined(), "capture_factors: no gradient at the output of ",
                weights[out.size()]);
    at::Tensor u = *cap.input;
    if (cap.site.w_in) {
      // The GPT-2 block's ln_2 of the residual after attention, as gpt2_model.cpp computes it.
      const std::string h = fmt::format("transformer.h.{}.", cap.site.layer);
      const auto& p = model.parameters();
      u = at::layer_norm(*cap.resid + *cap.attn, {c.d_model}, p.at(h + "ln_2.weight"), p.at(h + "ln_2.bias"), c.norm_eps);
    }
    const auto delta = cap.leaf->grad();
    out.push_back({u.reshape({-1, u.size(-1)}).index({keep}).to(at::kFloat),
                   delta.reshape({-1, delta.size(-1)}).index({keep}).to(at::kFloat)});
  }
  return out;
}

}  // namespace editgate::editors
