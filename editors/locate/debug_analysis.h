#pragma once
// `editgate debug`: why does the model answer a prompt wrongly? Three views of
// one prediction, and a plain-text reading of them:
//  - Integrated Gradients (Sundararajan et al. 2017) of F = logit(expected) -
//    logit(actual) at the last position, over the input-token embeddings (at
//    blocks.0.hook_resid_pre), on the straight path from zero token embeddings
//    (position embeddings kept), a stated number of steps crowded towards the
//    baseline (alpha = u^3, midpoints in u); completeness: the attributions sum
//    to F(input) - F(baseline) within a stated tolerance.
//  - Logit lens (nostalgebraist 2020): the residual stream after every layer
//    put through the model's own final norm and unembedding (by substituting it
//    for the last layer's hook_resid_post), with the expected and the actual
//    answer's rank and probability.
//  - Causal tracing of the actual answer over (layer, position) (causal_trace.h),
//    and its converse on the clean run: MLP knockout, P(actual) when one
//    (layer, position) MLP output is set to zero. Tracing asks where the
//    answer can be restored from; knockout where it cannot do without, which
//    is where an MLP edit (ROME's rank-one update at the subject) put it.
// The summary names the tokens pushing towards the wrong answer, the layer
// where it takes over, and the component (MLP or attention) and layer with the
// largest indirect effect, and suggests an editor and layer.
//
// This unit owns the three analyses and the summary; drawing is reports/'s job.

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "editors/locate/causal_trace.h"
#include "harness/text_model.h"

namespace editgate::editors {

struct DebugOptions {
  int64_t ig_steps = 64;                // Riemann midpoints on the path
  double completeness_tolerance = 0.05;  // |Σ attributions - ΔF| <= tolerance · max(1, |ΔF|)
  TraceOptions trace;
};

struct IntegratedGradients {
  std::vector<double> attributions;  // [n_tokens] Σ over the embedding of (x - baseline) · path-averaged gradient
  double f_input = 0;                // F at the prompt's embeddings
  double f_baseline = 0;             // F with the token embeddings zeroed
  double sum = 0;                    // Σ attributions
  double error = 0;                  // |sum - (f_input - f_baseline)|
  bool complete = false;             // error within the tolerance
  int64_t steps = 0;
};

struct LensRow {
  int64_t layer = 0;                 // after block `layer`
  int64_t expected_rank = 0;         // 1 = top-1
  double expected_prob = 0;
  int64_t actual_rank = 0;
  double actual_prob = 0;
  std::string top1;                  // decoded top-1 token there
};

struct DebugResult {
  std::string prompt;
  std::vector<std::string> tokens;  // [n_tokens] decoded
  std::string expected, actual;     // answers (first token of the expected; the model's top-1)
  int64_t expected_id = 0, actual_id = 0;
  double expected_prob = 0, actual_prob = 0;
  IntegratedGradients ig;
  std::vector<LensRow> lens;         // [n_layers]
  std::optional<TraceResult> trace;  // when a subject was given
  at::Tensor knockout;               // [n_tokens, n_layers] P(actual) with that MLP output zeroed
  // The deepest MLP site at the subject's tokens whose knockout lowers
  // P(actual) by at least 90% of the largest such drop (-1 without a
  // subject): where an MLP editor should act.
  int64_t knockout_layer = -1;
  int64_t knockout_position = -1;
  double knockout_drop = 0;
  // The reading: the component and (layer, token) of the largest indirect
  // effect on the actual answer in tracing ("mlp" | "attn"; "" without tracing).
  std::string component;
  int64_t layer = -1;
  int64_t position = -1;
  double effect = 0;                 // P(actual) restored minus corrupted there
  std::string suggestion;            // editor and layer to try
  std::vector<std::string> summary;  // plain-text lines
};

/// Runs the three analyses. `prompt` may mark the subject with "{}"; without it
/// the subject's first occurrence is used. InputError for an expected answer
/// that encodes to nothing or a subject not in the prompt.
DebugResult debug_prediction(harness::TextModel& model, const std::string& prompt, const std::string& expected,
                             const std::optional<std::string>& subject, const DebugOptions& options = {});

nlohmann::ordered_json to_json(const DebugResult& r);

}  // namespace editgate::editors
