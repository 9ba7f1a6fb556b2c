#include "harness/length_batches.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace editgate::harness {

std::vector<std::vector<int64_t>> length_batches(const std::vector<int64_t>& lengths, int64_t max_batch) {
  if (max_batch < 1) throw std::invalid_argument("length_batches: max_batch must be >= 1");
  const int64_t n = static_cast<int64_t>(lengths.size());
  std::vector<int64_t> order(lengths.size());
  std::iota(order.begin(), order.end(), 0);
  // Stable: rows of equal length keep the caller's order, so equal-length input is batched as before.
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return lengths[a] < lengths[b]; });

  // best[j]: least cost of the j shortest rows; cut[j]: where their last batch starts. In
  // sorted order a batch's longest row is its last, so each batch is a contiguous run.
  std::vector<int64_t> best(n + 1, std::numeric_limits<int64_t>::max());
  std::vector<int64_t> cut(n + 1, 0);
  best[0] = 0;
  for (int64_t j = 1; j <= n; ++j) {
    const int64_t longest = lengths[order[j - 1]];
    for (int64_t i = std::max<int64_t>(0, j - max_batch); i < j; ++i) {
      const int64_t cost = best[i] + (j - i) * longest + kPassCostTokens;
      if (cost < best[j]) {
        best[j] = cost;
        cut[j] = i;
      }
    }
  }
  std::vector<std::vector<int64_t>> batches;
  for (int64_t j = n; j > 0; j = cut[j]) batches.emplace_back(order.begin() + cut[j], order.begin() + j);
  std::reverse(batches.begin(), batches.end());
  return batches;
}

}  // namespace editgate::harness
