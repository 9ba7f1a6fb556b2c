#pragma once
// Batched scoring: the per-token log-probabilities of continuations given
// prompts, for many (prompt, continuation) pairs in one padded forward pass,
// and next-token distributions at the end of prompts. Every suite measures
// through these, so their speed is the suites' speed. This unit owns padding,
// masks and gathering; the model owns the forward pass.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "harness/transformer.h"

namespace editgate::harness {

enum class Padding { kRight, kLeft };

struct ScoreItem {
  std::vector<int64_t> prompt;        // at least one token
  std::vector<int64_t> continuation;  // at least one token
};

struct ScoreResult {
  std::vector<double> token_logprobs;  // log P(continuation[i] | prompt, continuation[:i])
  std::vector<int64_t> argmax;         // teacher-forced top-1 token at each continuation position
  double sum() const;
  double mean_nll() const;             // -sum / n: CounterFact's per-token NLL
};

// Scores `items` in batches of at most `max_batch`, each batch one padded forward pass,
// results in the order of `items`. Rows of similar length share a pass; while a hook
// is installed the passes are instead `items` in order, max_batch at a time (a hook may
// address rows by their index in the batch).
std::vector<ScoreResult> score(Transformer& model, const std::vector<ScoreItem>& items, int64_t max_batch = 64,
                               Padding padding = Padding::kRight);

// Log-softmax of the next token after each prompt: [n_prompts, vocab] float32 on CPU.
at::Tensor next_token_logprobs(Transformer& model, const std::vector<std::vector<int64_t>>& prompts,
                               int64_t max_batch = 64);

// Pads token sequences into [batch, max_len] ids and a 1/0 mask (pad id 0: it is masked anyway).
struct PaddedBatch {
  at::Tensor ids;   // [batch, max_len] int64
  at::Tensor mask;  // [batch, max_len] int64, 1 for tokens
  std::vector<int64_t> offsets;  // column where each row's first token is (non-zero only for left padding)
};
PaddedBatch pad_batch(const std::vector<std::vector<int64_t>>& rows, Padding padding);

}  // namespace editgate::harness
