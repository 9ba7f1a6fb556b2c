#include "editors/concept_prompts.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>

#include "editors/edit_request.h"
#include "editors/eraser_hook.h"
#include "editors/probe_metrics.h"
#include "harness/scoring.h"
#include "harness/text_model.h"

namespace editgate::editors {

EncodedRecords encode_records(const harness::TextModel& tm, const std::vector<ConceptRecord>& records,
                              const std::filesystem::path& path, std::map<std::string, int64_t>& subject_ids) {
  EncodedRecords out;
  std::vector<int64_t> labels;
  for (const auto& r : records) {
    out.prompts.push_back(tm.encode_prompt(r.prompt));
    out.positions.push_back(record_position(tm, r, path));
    labels.push_back(r.label);
  }
  out.labels = at::tensor(labels, at::kLong);
  out.groups = subject_groups(records, subject_ids);
  return out;
}

RecallReport fact_recall(harness::TextModel& tm, harness::HookPoint point, const std::vector<const ConceptRecord*>& records,
                         const std::vector<int64_t>& positions, const Eraser* eraser, bool all_positions,
                         int64_t batch_size) {
  RecallReport rep;
  const auto n = static_cast<int64_t>(records.size());
  for (int64_t start = 0; start < n; start += batch_size) {
    const int64_t end = std::min(n, start + batch_size);
    std::vector<harness::ScoreItem> items;
    for (int64_t i = start; i < end; ++i) {
      items.push_back({tm.encode_prompt(records[i]->prompt), tm.encode_continuation(with_leading_space(records[i]->object))});
    }
    harness::HookHandle handle;
    if (eraser != nullptr) {
      const std::vector<int64_t> pos(positions.begin() + start, positions.begin() + end);
      handle = all_positions ? install_eraser(tm.model(), point, *eraser) : install_eraser(tm.model(), point, *eraser, pos);
    }
    // One padded batch per chunk (right padding keeps positions as columns, so the hook's rows match).
    const auto results = harness::score(tm.model(), items, end - start, harness::Padding::kRight);
    for (int64_t i = start; i < end; ++i) {
      const auto k = static_cast<size_t>(i - start);
      const bool hit = results[k].argmax == items[k].continuation;
      auto& [h, c] = rep.by_relation[records[i]->relation];
      h += hit, ++c;
      rep.hits += hit, ++rep.n;
    }
  }
  return rep;
}

nlohmann::json RecallReport::to_json() const {
  nlohmann::json rel = nlohmann::json::object();
  for (const auto& [name, hc] : by_relation) {
    rel[name.empty() ? "(none)" : name] = {{"hits", hc.first}, {"n", hc.second}};
  }
  const Interval ci = wilson_interval(hits, n);
  return nlohmann::json{{"n", n}, {"hits", hits}, {"rate", rate()}, {"ci95", {ci.low, ci.high}}, {"by_relation", rel}};
}

}  // namespace editgate::editors
