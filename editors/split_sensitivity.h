#pragma once
// Split sensitivity: how much a held-out erasure result owes to which subjects
// landed in which part. An eraser fitted on n subjects per class misses each
// class mean by sampling error that unseen subjects of that class share, so a
// probe trained on other subjects can find it; how far above chance that puts
// the probe varies a lot from one split to the next. This unit refits LEACE and
// the probes on fresh subject-disjoint splits of the same rows (the eraser on
// one part, the probe cross-validated over the rest) and reports the spread;
// the probes themselves are probe_recovery.h's.

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "editors/erasure_split.h"
#include "editors/labeled_data.h"
#include "editors/leace.h"
#include "editors/logistic_probe.h"
#include "editors/probe_recovery.h"

namespace editgate::editors {

struct SplitSensitivityOptions {
  int64_t splits = 10;        // fresh splits, seeds first_seed, first_seed + 1, ...
  uint64_t first_seed = 1;
  SplitFractions fractions;   // shares of each class's subjects
  LeaceOptions leace;
  LogisticProbeOptions probe;
  CrossValidation cv;         // each split's probe: k-fold by subject over its probe parts
};

struct SplitSensitivity {
  SplitFractions fractions;
  std::vector<uint64_t> seeds;
  std::vector<double> accuracy_before;  // logistic probe, per split
  std::vector<double> accuracy_after;
  std::vector<double> chance;           // majority rate of each split's test part
  int64_t after_beats_chance = 0;       // splits where the after-interval's low end is above chance

  nlohmann::json to_json() const;
  /// One line for people: "10 fresh subject splits: probe after 0.6168 on average (...), above chance in 5 of 10".
  std::string summary() const;
};

/// `data` must carry group ids (subjects): every split keeps a subject's rows
/// in one part. InputError when a part would be empty.
SplitSensitivity split_sensitivity(const LabeledData& data, const SplitSensitivityOptions& options);

}  // namespace editgate::editors
