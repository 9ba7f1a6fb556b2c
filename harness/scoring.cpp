#include "harness/scoring.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <numeric>

#include "harness/activation_check.h"

namespace editgate::harness {

double ScoreResult::sum() const { return std::accumulate(token_logprobs.begin(), token_logprobs.end(), 0.0); }

double ScoreResult::mean_nll() const {
  return token_logprobs.empty() ? 0.0 : -sum() / static_cast<double>(token_logprobs.size());
}

PaddedBatch pad_batch(const std::vector<std::vector<int64_t>>& rows, Padding padding) {
  size_t max_len = 0;
  for (const auto& r : rows) max_len = std::max(max_len, r.size());
  const int64_t batch = static_cast<int64_t>(rows.size());
  PaddedBatch out;
  out.ids = at::zeros({batch, static_cast<int64_t>(max_len)}, at::kLong);
  out.mask = at::zeros({batch, static_cast<int64_t>(max_len)}, at::kLong);
  auto ids = out.ids.accessor<int64_t, 2>();
  auto mask = out.mask.accessor<int64_t, 2>();
  for (int64_t b = 0; b < batch; ++b) {
    const auto& r = rows[b];
    const int64_t off = padding == Padding::kLeft ? static_cast<int64_t>(max_len - r.size()) : 0;
    out.offsets.push_back(off);
    for (size_t i = 0; i < r.size(); ++i) {
      ids[b][off + static_cast<int64_t>(i)] = r[i];
      mask[b][off + static_cast<int64_t>(i)] = 1;
    }
  }
  return out;
}

namespace {

void score_one_batch(Transformer& model, const ScoreItem* items, int64_t n, Padding padding,
                     std::vector<ScoreResult>& out) {
  std::vector<std::vector<int64_t>> rows;
  rows.reserve(n);
  for (int64_t i = 0; i < n; ++i) {
    TORCH_CHECK(!items[i].prompt.empty() && !items[i].continuation.empty(),
                "score: prompt and continuation must each have at least one token");
    auto row = items[i].prompt;
    // The last continuation token is only a target, never an input.
    row.insert(row.end(), items[i].continuation.begin(), items[i].continuation.end() - 1);
    rows.push_back(std::move(row));
  }
  const auto batch = pad_batch(rows, padding);
  ForwardOptions opts;
  opts.attention_mask = batch.mask;
  const auto logits = model.forward(batch.ids, opts);
  require_finite_logits(model, logits, batch.ids, opts, batch.mask);
  const auto logprobs = at::log_softmax(logits.to(at::kFloat), -1).cpu();  // [b, pos, vocab]

  for (int64_t i = 0; i < n; ++i) {
    const auto& item = items[i];
    const int64_t first = batch.offsets[i] + static_cast<int64_t>(item.prompt.size()) - 1;
    const int64_t len = static_cast<int64_t>(item.continuation.size());
    const auto rows_lp = logprobs[i].narrow(0, first, len);  // [len, vocab]
    const auto targets = at::tensor(item.continuation, at::kLong).unsqueeze(1);
    const auto picked = rows_lp.gather(1, targets).squeeze(1).to(at::kDouble).contiguous();
    const auto top = rows_lp.argmax(1).contiguous();
    ScoreResult r;
    r.token_logprobs.assign(picked.data_ptr<double>(), picked.data_ptr<double>() + len);
    r.argmax.assign(top.data_ptr<int64_t>(), top.data_ptr<int64_t>() + len);
    out.push_back(std::move(r));
  }
}

}  // namespace

std::vector<ScoreResult> score(Transformer& model, const std::vector<ScoreItem>& items, int64_t max_batch,
                               Padding padding) {
  c10::NoGradGuard no_grad;
  std::vector<ScoreResult> out;
  out.reserve(items.size());
  const int64_t total = static_cast<int64_t>(items.size());
  for (int64_t start = 0; start < total; start += max_batch) {
    score_one_batch(model, items.data() + start, std::min(max_batch, total - start), padding, out);
  }
  return out;
}

at::Tensor next_token_logprobs(Transformer& model, const std::vector<std::vector<int64_t>>& prompts,
                               int64_t max_batch) {
  c10::NoGradGuard no_grad;
  std::vector<at::Tensor> parts;
  const int64_t total = static_cast<int64_t>(prompts.size());
  for (int64_t start = 0; start < total; start += max_batch) {
    const int64_t n = std::min(max_batch, total - start);
    const std::vector<std::vector<int64_t>> rows(prompts.begin() + start, prompts.begin() + start + n);
    // Left padding puts every prompt's last token in the last column.
    const auto batch = pad_batch(rows, Padding::kLeft);
    ForwardOptions opts;
    opts.attention_mask = batch.mask;
    const auto all_logits = model.forward(batch.ids, opts);
    require_finite_logits(model, all_logits, batch.ids, opts, batch.mask);
    const auto logits = all_logits.select(1, batch.ids.size(1) - 1);
    parts.push_back(at::log_softmax(logits.to(at::kFloat), -1).cpu());
  }
  if (parts.empty()) return at::empty({0, model.config().vocab_size}, at::kFloat);
  return at::cat(parts, 0);
}

}  // namespace editgate::harness
