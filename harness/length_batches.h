#pragma once
// Groups rows of mixed length into forward passes. A padded pass costs every
// row the longest row's length, so rows are sorted by length and cut where a
// cut saves more padded positions than a pass's fixed cost (weights read once
// per pass on a CPU, kernel launches on a GPU). BM_ScoreFacts' rows (prompts
// of 10-30 tokens) padded as one batch are 31-33 % padding.

#include <cstdint>
#include <vector>

namespace editgate::harness {

// A pass's fixed cost in padded token positions. From one peer_bench run on one
// CPU thread, GPT-2 small (docs/performance.md): 1 x 32 tokens took 224 ms and
// 8 x 32 took 1049 ms, so a row of 32 costs ~118 ms (3.7 ms a token) and a pass
// ~106 ms beyond its tokens, about 29 positions.
inline constexpr int64_t kPassCostTokens = 32;

// Partitions indices 0..lengths.size()-1 into batches of at most `max_batch`,
// each in ascending length, minimising sum(rows x longest row + kPassCostTokens).
// Every index appears in exactly one batch; batches come shortest first.
std::vector<std::vector<int64_t>> length_batches(const std::vector<int64_t>& lengths, int64_t max_batch);

}  // namespace editgate::harness
