#include "harness/generation.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include "harness/activation_check.h"
#include "harness/input_error.h"
#include "harness/scoring.h"

namespace editgate::harness {

std::vector<std::vector<int64_t>> generate_greedy(Transformer& model, const std::vector<std::vector<int64_t>>& prompts,
                                                  const GenerateOptions& options) {
  c10::NoGradGuard no_grad;
  const int64_t batch = static_cast<int64_t>(prompts.size());
  std::vector<std::vector<int64_t>> out(prompts.size());
  if (batch == 0 || options.max_new_tokens <= 0) return out;
  for (const auto& p : prompts) TORCH_CHECK(!p.empty(), "generate: every prompt needs at least one token");

  const auto padded = pad_batch(prompts, Padding::kLeft);
  const at::Device dev = model.device();
  at::Tensor ids = padded.ids.to(dev);
  at::Tensor mask = padded.mask.to(dev);
  std::vector<bool> done(prompts.size(), false);
  KVCache cache;

  at::Tensor step_ids = ids;
  at::Tensor step_mask = mask;
  for (int64_t step = 0; step < options.max_new_tokens; ++step) {
    ForwardOptions opts;
    opts.attention_mask = step_mask;
    if (options.use_cache) opts.cache = &cache;
    // Only the last column is read: left padding puts every row's last token there.
    const auto last_column = at::full({batch, 1}, step_ids.size(1) - 1, at::kLong);
    opts.logit_positions = last_column;
    const auto logits = model.forward(step_ids, opts);
    const auto last = logits.select(1, 0);  // [batch, vocab]
    // The next tokens and whether they came from finite logits, in one copy to the host.
    const auto host = at::cat({last.argmax(-1), at::isfinite(last).all().to(at::kLong).unsqueeze(0)}).cpu();
    const auto* next_ptr = host.data_ptr<int64_t>();  // [batch] tokens, then the finite flag
    if (step == 0) {
      // The prompt pass; located without the cache if it fails.
      ForwardOptions plain;
      plain.attention_mask = step_mask;
      plain.logit_positions = last_column;
      require_finite_logits(model, logits, step_ids, plain, step_mask);
    } else if (next_ptr[batch] == 0) {
      // A generated token can overflow where the prompt did not (a damaged edit
      // fires on the new subject's tokens). Locate it on prompt + generated so far.
      ForwardOptions plain;
      plain.attention_mask = mask;
      require_finite_logits(model, model.forward(ids, plain), ids, plain, mask);
      throw InputError(model.config().source, "generation step " + std::to_string(step), "finite logits",
                       "NaN or Inf with the KV cache, none without it",
                       "a KV-cache inconsistency: rerun with the cache off to compare");
    }
    bool all_done = true;
    for (int64_t b = 0; b < batch; ++b) {
      if (!done[b]) {
        out[b].push_back(next_ptr[b]);
        done[b] = options.stop_token && next_ptr[b] == *options.stop_token;
      }
      all_done = all_done && done[b];
    }
    if (all_done) break;
    const auto next_col = host.narrow(0, 0, batch).to(dev).unsqueeze(1);
    const auto one = at::ones({batch, 1}, mask.options());
    // The whole sequence is kept in both modes: the cached path needs it only to
    // locate a non-finite value, and it is a few integers per step.
    ids = at::cat({ids, next_col}, 1);
    mask = at::cat({mask, one}, 1);
    step_ids = options.use_cache ? next_col : ids;
    step_mask = options.use_cache ? one : mask;
  }
  return out;
}

}  // namespace editgate::harness
