#pragma once
// Causal tracing (Meng et al. 2022, ROME §2.1): where in the network does the
// model recall the object of "prompt about subject"? Corrupt the subject's
// token embeddings with Gaussian noise (noise_scale × the embedding matrix's
// standard deviation × the architecture's embedding scale, seeded, several samples), then restore one clean
// activation at a time and measure how much of P(object) comes back:
//   resid: blocks.{l}.hook_resid_post at token t;
//   mlp / attn: hook_mlp_out / hook_attn_out at token t in a window of layers
//               centred on l (ROME's window of 10).
// One forward pass per (stream, layer) holds every token's restoration as its
// own group of rows, so a trace costs 3 × n_layers passes, not 3 × n_layers ×
// n_tokens. This unit owns the experiment and its numbers; drawing the
// heatmaps is reports/'s.

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harness/text_model.h"

namespace editgate::editors {

struct TraceOptions {
  int64_t samples = 10;       // corrupted runs averaged
  double noise_scale = 3.0;   // × std of the token embeddings as layer 0 sees them (matrix std × embedding_scale)
  uint64_t seed = 1;
  int64_t window = 0;         // layers restored together for mlp and attn; 0: min(10, max(1, n_layers / 4))
                              // (ROME's 10 on GPT-2 XL; 1 on the 4-layer fixture, where 10 would cover all)
};

struct TraceResult {
  std::vector<std::string> tokens;  // [n_tokens] decoded prompt tokens (BOS included when added)
  int64_t subject_begin = 0;        // [begin, end) token range of the subject
  int64_t subject_end = 0;
  int64_t answer_id = 0;            // the object's (first) token
  std::string answer;
  double noise_std = 0;             // absolute noise standard deviation used
  double clean_prob = 0;            // P(answer) in the clean run
  double corrupted_prob = 0;        // mean P(answer) with the subject corrupted
  at::Tensor resid;                 // [n_tokens, n_layers] mean P(answer) after restoring
  at::Tensor mlp;                   // [n_tokens, n_layers]
  at::Tensor attn;                  // [n_tokens, n_layers]
  int64_t window = 0;               // the window used

  /// The layer with the largest MLP effect at the subject's last token.
  int64_t best_mlp_layer_at_subject() const;
};

/// Traces `prompt` ("{}" marks the subject) for `subject`. The answer is
/// `answer`'s first token when given (leading space added), else the clean
/// run's top-1. InputError when the subject does not encode to tokens of its own.
TraceResult causal_trace(harness::TextModel& model, const std::string& prompt, const std::string& subject,
                         const std::optional<std::string>& answer, const TraceOptions& options = {});

nlohmann::ordered_json to_json(const TraceResult& r);

}  // namespace editgate::editors
