#pragma once
// INLP (Ravfogel et al. 2020), the iterative baseline LEACE is compared with:
// train a linear probe, project the data onto the nullspace of its weights,
// repeat until the held-out probe is within a margin of chance. The result is an
// orthogonal projection (centred on the training mean, like LEACE's affine
// form, so the two changes compare like for like), expressed as an Eraser with
// proj_left = B, proj_right = Bᵀ for an orthonormal basis B of the removed
// directions. Greedy and not guaranteed complete; it removes more dimensions
// than LEACE. This unit owns the iteration; the probe is logistic_probe.h's.

#include <ATen/core/Tensor.h>
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <vector>

#include "editors/eraser.h"
#include "editors/labeled_data.h"
#include "editors/logistic_probe.h"

namespace editgate::editors {

struct InlpOptions {
  int64_t max_iterations = 20;   // probes trained at most
  double margin = 0.01;          // stop when dev accuracy <= majority rate + margin
  LogisticProbeOptions probe;
};

struct InlpResult {
  Eraser eraser;                          // rank = directions removed
  std::vector<double> dev_accuracy;       // accuracy of the probe trained at each iteration, on dev
  double dev_chance = 0.0;                // majority-class rate of dev
  bool reached_chance = false;            // stopped by the margin, not by max_iterations or a null probe
  int64_t rank_removed() const { return eraser.rank(); }
  nlohmann::json to_json() const;
};

/// Runs INLP with probes trained on `train` and judged on `dev` (disjoint rows).
InlpResult fit_inlp(const LabeledData& train, const LabeledData& dev, const InlpOptions& options = {});

}  // namespace editgate::editors
