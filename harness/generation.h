#pragma once
// Greedy generation with a KV cache, batched with left padding. This unit owns
// the decoding loop; the model owns the cache layout (transformer.h).

#include <cstdint>
#include <optional>
#include <vector>

#include "harness/transformer.h"

namespace editgate::harness {

struct GenerateOptions {
  int64_t max_new_tokens = 16;
  std::optional<int64_t> stop_token;  // a row stops after producing it (it is kept in the output)
  bool use_cache = true;              // false recomputes the whole sequence each step (for testing)
};

// Returns only the new tokens of each prompt.
std::vector<std::vector<int64_t>> generate_greedy(Transformer& model, const std::vector<std::vector<int64_t>>& prompts,
                                                  const GenerateOptions& options = {});

}  // namespace editgate::harness
