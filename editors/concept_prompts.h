#pragma once
// A concept dataset's records as model inputs, and the fact recall of their
// objects with an eraser optionally installed. erase-model and the erasure
// suites both use these, so they read activations at the same positions,
// number subjects the same way and count the same facts.

#include <ATen/core/Tensor.h>
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "editors/concept_dataset.h"
#include "editors/eraser.h"
#include "harness/hook_names.h"

namespace editgate::harness {
class TextModel;
}

namespace editgate::editors {

struct EncodedRecords {
  std::vector<std::vector<int64_t>> prompts;  // token ids, BOS included when the model adds it
  std::vector<int64_t> positions;             // where each record's activation is read (record_position)
  at::Tensor labels;                          // [n] int64
  at::Tensor groups;                          // [n] int64 subject ids
};

/// Encodes `records`; `subject_ids` numbers subjects across calls, so the parts
/// of one dataset never give two subjects the same id.
EncodedRecords encode_records(const harness::TextModel& tm, const std::vector<ConceptRecord>& records,
                              const std::filesystem::path& path, std::map<std::string, int64_t>& subject_ids);

/// Fact recall: the continuation " " + object is the teacher-forced top-1 at every token.
struct RecallReport {
  int64_t n = 0;
  int64_t hits = 0;
  std::map<std::string, std::pair<int64_t, int64_t>> by_relation;  // relation -> (hits, n)
  double rate() const { return n > 0 ? static_cast<double>(hits) / static_cast<double>(n) : 0.0; }
  nlohmann::json to_json() const;
};

/// Recall of `records` (each with an object; `positions` as from encode_records),
/// with `eraser` installed at `point` when given: at each record's own position,
/// or at every position with `all_positions`.
RecallReport fact_recall(harness::TextModel& tm, harness::HookPoint point, const std::vector<const ConceptRecord*>& records,
                         const std::vector<int64_t>& positions, const Eraser* eraser, bool all_positions = false,
                         int64_t batch_size = 32);

}  // namespace editgate::editors
