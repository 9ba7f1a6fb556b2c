#include "harness/scoring.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <numeric>

#include "harness/activation_check.h"
#include "harness/length_batches.h"

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

// Forward passes over rows of these lengths: grouped by length (length_batches.h), unless
// a hook is installed. A hook may act on rows by their index in the batch (an eraser at
// each row's own position), so then the passes are the caller's rows in order, in chunks
// of max_batch, as the caller laid them out.
std::vector<std::vector<int64_t>> forward_batches(Transformer& model, const std::vector<int64_t>& lengths,
                                                  int64_t max_batch) {
  if (model.hooks().empty()) return length_batches(lengths, max_batch);
  std::vector<std::vector<int64_t>> batches;
  const int64_t n = static_cast<int64_t>(lengths.size());
  for (int64_t start = 0; start < n; start += max_batch) {
    batches.emplace_back();
    for (int64_t i = start; i < std::min(n, start + max_batch); ++i) batches.back().push_back(i);
  }
  return batches;
}

// One padded forward pass over items[indices]: logits only at the positions each item
// scores (the last prompt token and every continuation token but the last).
void score_one_batch(Transformer& model, const std::vector<ScoreItem>& items, const std::vector<int64_t>& indices,
                     Padding padding, std::vector<ScoreResult>& out) {
  const int64_t n = static_cast<int64_t>(indices.size());
  std::vector<std::vector<int64_t>> rows;
  rows.reserve(indices.size());
  size_t most_scored = 0;
  for (int64_t i : indices) {
    TORCH_CHECK(!items[i].prompt.empty() && !items[i].continuation.empty(),
                "score: prompt and continuation must each have at least one token");
    auto row = items[i].prompt;
    // The last continuation token is only a target, never an input.
    row.insert(row.end(), items[i].continuation.begin(), items[i].continuation.end() - 1);
    rows.push_back(std::move(row));
    most_scored = std::max(most_scored, items[i].continuation.size());
  }
  const auto batch = pad_batch(rows, padding);
  const int64_t k = static_cast<int64_t>(most_scored);
  // Rows scoring fewer than k tokens repeat their last scored position (a real token,
  // as logit_positions must be) and ignore the extra columns.
  auto positions = at::empty({n, k}, at::kLong);
  auto targets = at::zeros({n, k}, at::kLong);
  auto pos_a = positions.accessor<int64_t, 2>();
  auto tgt_a = targets.accessor<int64_t, 2>();
  for (int64_t r = 0; r < n; ++r) {
    const auto& item = items[indices[r]];
    const int64_t first = batch.offsets[r] + static_cast<int64_t>(item.prompt.size()) - 1;
    const int64_t len = static_cast<int64_t>(item.continuation.size());
    for (int64_t t = 0; t < k; ++t) {
      pos_a[r][t] = first + std::min(t, len - 1);
      if (t < len) tgt_a[r][t] = item.continuation[t];
    }
  }
  ForwardOptions opts;
  opts.attention_mask = batch.mask;
  opts.logit_positions = positions;
  const auto logits = model.forward(batch.ids, opts);  // [n, k, vocab]
  require_finite_logits(model, logits, batch.ids, opts, batch.mask);
  const auto logprobs = at::log_softmax(logits.to(at::kFloat), -1);
  const auto picked = logprobs.gather(2, targets.to(logprobs.device()).unsqueeze(2)).squeeze(2).to(at::kDouble).cpu();
  const auto top = logprobs.argmax(2).cpu();
  auto picked_a = picked.accessor<double, 2>();
  auto top_a = top.accessor<int64_t, 2>();
  for (int64_t r = 0; r < n; ++r) {
    const size_t len = items[indices[r]].continuation.size();
    ScoreResult& res = out[indices[r]];
    res.token_logprobs.resize(len);
    res.argmax.resize(len);
    for (size_t t = 0; t < len; ++t) {
      res.token_logprobs[t] = picked_a[r][static_cast<int64_t>(t)];
      res.argmax[t] = top_a[r][static_cast<int64_t>(t)];
    }
  }
}

}  // namespace

std::vector<ScoreResult> score(Transformer& model, const std::vector<ScoreItem>& items, int64_t max_batch,
                               Padding padding) {
  c10::NoGradGuard no_grad;
  std::vector<ScoreResult> out(items.size());
  std::vector<int64_t> lengths;
  lengths.reserve(items.size());
  for (const auto& it : items) lengths.push_back(static_cast<int64_t>(it.prompt.size() + it.continuation.size()) - 1);
  for (const auto& indices : forward_batches(model, lengths, max_batch)) score_one_batch(model, items, indices, padding, out);
  return out;
}

at::Tensor next_token_logprobs(Transformer& model, const std::vector<std::vector<int64_t>>& prompts,
                               int64_t max_batch) {
  c10::NoGradGuard no_grad;
  std::vector<at::Tensor> parts;
  std::vector<int64_t> order;  // prompt index of each row of cat(parts)
  std::vector<int64_t> lengths;
  lengths.reserve(prompts.size());
  for (const auto& p : prompts) lengths.push_back(static_cast<int64_t>(p.size()));
  for (const auto& indices : forward_batches(model, lengths, max_batch)) {
    const int64_t n = static_cast<int64_t>(indices.size());
    std::vector<std::vector<int64_t>> rows;
    rows.reserve(indices.size());
    for (int64_t i : indices) rows.push_back(prompts[i]);
    order.insert(order.end(), indices.begin(), indices.end());
    // Left padding puts every prompt's last token in the last column, the only one whose logits are needed.
    const auto batch = pad_batch(rows, Padding::kLeft);
    ForwardOptions opts;
    opts.attention_mask = batch.mask;
    opts.logit_positions = at::full({n, 1}, batch.ids.size(1) - 1, at::kLong);
    const auto logits = model.forward(batch.ids, opts);  // [n, 1, vocab]
    require_finite_logits(model, logits, batch.ids, opts, batch.mask);
    parts.push_back(at::log_softmax(logits.select(1, 0).to(at::kFloat), -1).cpu());
  }
  if (parts.empty()) return at::empty({0, model.config().vocab_size}, at::kFloat);
  // Back into the caller's order: row r of the result is prompt r.
  auto out = at::empty({static_cast<int64_t>(prompts.size()), model.config().vocab_size}, at::kFloat);
  out.index_copy_(0, at::tensor(order, at::kLong), at::cat(parts, 0));
  return out;
}

}  // namespace editgate::harness
