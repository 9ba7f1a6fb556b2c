#include "editors/target_batch.h"

#include <ATen/ATen.h>

#include "harness/scoring.h"

namespace editgate::editors {

TargetBatch make_target_batch(const harness::TextModel& tm, const std::vector<TargetRow>& rows, at::Device device) {
  TORCH_CHECK(!rows.empty(), "make_target_batch: no rows");
  std::vector<std::vector<int64_t>> ids;
  std::vector<int64_t> t_row, t_pos, t_tok;
  std::vector<float> t_w;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& target = rows[i].target;
    TORCH_CHECK(!target.empty(), "make_target_batch: an empty target");
    auto row = tm.encode_prompt(rows[i].prompt);
    for (size_t j = 0; j < target.size(); ++j) {
      t_row.push_back(static_cast<int64_t>(i));
      t_pos.push_back(static_cast<int64_t>(row.size() + j) - 1);
      t_tok.push_back(target[j]);
      t_w.push_back(1.0F / static_cast<float>(target.size() * rows.size()));
    }
    row.insert(row.end(), target.begin(), target.end() - 1);
    ids.push_back(std::move(row));
  }
  const auto padded = harness::pad_batch(ids, harness::Padding::kRight);
  return {padded.ids.to(device),
          padded.mask.to(device),
          at::tensor(t_row, at::kLong).to(device),
          at::tensor(t_pos, at::kLong).to(device),
          at::tensor(t_tok, at::kLong).to(device),
          at::tensor(t_w, at::kFloat).to(device)};
}

at::Tensor target_nll(const at::Tensor& logits, const TargetBatch& b) {
  const auto lp = at::log_softmax(logits.index({b.row, b.pos}).to(at::kFloat), -1).gather(1, b.tok.unsqueeze(1)).squeeze(1);
  return -(lp * b.weight).sum();
}

}  // namespace editgate::editors
