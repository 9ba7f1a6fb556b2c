#pragma once
// Groups rows of mixed length into forward passes. A padded pass costs every
// row the longest row's length, so rows are sorted by length and cut where a
// cut saves more padded positions than a pass's fixed cost (weights read once
// per pass on a CPU, kernel launches on a GPU). Scoring's fact prompts (10-30
// tokens) padded as one batch spend about a third of the work on padding.

#include <cstdint>
#include <vector>

namespace editgate::harness {

// A pass's fixed cost in padded token positions. Measured on one CPU thread,
// GPT-2 small: a 1-token pass costs about as much as 20 more tokens in a pass.
inline constexpr int64_t kPassCostTokens = 32;

// Partitions indices 0..lengths.size()-1 into batches of at most `max_batch`,
// each in ascending length, minimising sum(rows x longest row + kPassCostTokens).
// Every index appears in exactly one batch; batches come shortest first.
std::vector<std::vector<int64_t>> length_batches(const std::vector<int64_t>& lengths, int64_t max_batch);

}  // namespace editgate::harness
