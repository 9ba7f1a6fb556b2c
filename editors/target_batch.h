#pragma once
// Teacher-forced target rows: each row is a prompt followed by its target
// tokens but the last, right-padded into one batch, with the positions whose
// logits predict each target token. FT-L trains on it and MEND takes its
// gradient factors and edit loss from it. This unit owns the row layout and
// the mean target NLL; which prompts and targets go in is the caller's.

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <string>
#include <vector>

#include "harness/text_model.h"

namespace editgate::editors {

struct TargetRow {
  std::string prompt;
  std::vector<int64_t> target;  // at least one token
};

struct TargetBatch {
  at::Tensor ids;     // [rows, pos] int64, right-padded
  at::Tensor mask;    // [rows, pos] int64, 1 for tokens
  at::Tensor row;     // [n_target_tokens] int64: which row
  at::Tensor pos;     // [n_target_tokens] int64: the position whose logits predict the token
  at::Tensor tok;     // [n_target_tokens] int64: the token
  at::Tensor weight;  // [n_target_tokens] f32: 1 / (target length * rows), so the sum is the mean per-row NLL
};

TargetBatch make_target_batch(const harness::TextModel& tm, const std::vector<TargetRow>& rows, at::Device device);

/// The weighted target NLL of `logits` [rows, pos, vocab] (scalar, f32; differentiable).
at::Tensor target_nll(const at::Tensor& logits, const TargetBatch& batch);

}  // namespace editgate::editors
