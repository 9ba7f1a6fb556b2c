#include "editors/subject_activations.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include "harness/scoring.h"

namespace editgate::editors {
namespace {

// Thrown by the reading hook once it has what it needs: later layers cannot
// change an activation that has already been computed.
struct StopForward {};

}  // namespace

at::Tensor activations_at_subject(harness::TextModel& tm, const std::vector<SubjectPrompt>& prompts,
                                  harness::HookPoint point, int64_t max_batch) {
  c10::NoGradGuard no_grad;
  auto& model = tm.model();
  std::vector<at::Tensor> parts;
  for (size_t begin = 0; begin < prompts.size(); begin += static_cast<size_t>(max_batch)) {
    const size_t end = std::min(prompts.size(), begin + static_cast<size_t>(max_batch));
    std::vector<std::vector<int64_t>> rows;
    std::vector<int64_t> cols;
    for (size_t i = begin; i < end; ++i) {
      rows.push_back(prompts[i].ids);
      cols.push_back(prompts[i].subject_last);
    }
    const auto padded = harness::pad_batch(rows, harness::Padding::kRight);
    const auto dev = model.device();
    const auto row_idx = at::arange(static_cast<int64_t>(rows.size()), at::TensorOptions().dtype(at::kLong).device(dev));
    const auto col_idx = at::tensor(cols, at::kLong).to(dev);
    at::Tensor got;
    {
      auto handle = model.hooks().add(point, [&](at::Tensor& act, const harness::HookContext&) {
        // act [batch, pos, ...] -> [batch, ...] at each row's subject token
        got = act.index({row_idx, col_idx}).to(at::kFloat).clone();
        throw StopForward{};
      });
      harness::ForwardOptions fo;
      fo.attention_mask = padded.mask.to(dev);
      try {
        model.forward(padded.ids.to(dev), fo);
      } catch (const StopForward&) {
      }
    }
    TORCH_CHECK(got.defined(), "activations_at_subject: hook ", point.to_string(), " never ran");
    parts.push_back(got);
  }
  return at::cat(parts, 0);
}

at::Tensor mean_subject_keys(harness::TextModel& tm, const std::vector<EditRequest>& requests,
                             const std::vector<std::string>& templates, int64_t layer,
                             const std::vector<int64_t>& groups, int64_t max_batch) {
  int64_t grouped = 0;
  for (const int64_t g : groups) {
    TORCH_CHECK(g > 0, "mean_subject_keys: empty template group");
    grouped += g;
  }
  TORCH_CHECK(groups.empty() || grouped == static_cast<int64_t>(templates.size()), "mean_subject_keys: groups cover ",
              grouped, " templates, not ", templates.size());
  std::vector<SubjectPrompt> prompts;
  prompts.reserve(requests.size() * templates.size());
  for (const auto& r : requests) {
    for (const auto& t : templates) {
      prompts.push_back(encode_subject_prompt(tm, in_template(t, r.prompt), r.subject, r.case_id));
    }
  }
  const auto keys = activations_at_subject(tm, prompts, {layer, harness::HookSite::kMlpPost}, max_batch);
  const auto n_req = static_cast<int64_t>(requests.size());
  const auto n_tpl = static_cast<int64_t>(templates.size());
  const auto per_template = keys.view({n_req, n_tpl, keys.size(-1)});  // [n_requests, templates, d_mlp]
  if (groups.size() <= 1) return per_template.mean(1);                  // [n_requests, d_mlp]
  std::vector<at::Tensor> group_means;
  for (const auto& g : per_template.split_with_sizes(groups, 1)) group_means.push_back(g.mean(1));
  return at::stack(group_means, 0).mean(0);  // [n_requests, d_mlp]
}

at::Tensor bare_prompt_activations(harness::TextModel& tm, const std::vector<EditRequest>& requests,
                                   harness::HookPoint point, int64_t max_batch) {
  std::vector<SubjectPrompt> prompts;
  prompts.reserve(requests.size());
  for (const auto& r : requests) prompts.push_back(encode_subject_prompt(tm, r.prompt, r.subject, r.case_id));
  return activations_at_subject(tm, prompts, point, max_batch);
}

}  // namespace editgate::editors
