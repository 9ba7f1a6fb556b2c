#include "editors/concept_behaviour.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

#include "editors/edit_request.h"
#include "harness/input_error.h"
#include "harness/scoring.h"
#include "harness/text_model.h"

namespace editgate::editors {

double BehaviourReport::gap() const {
  return mean_diff.size() == 2 ? mean_diff[1] - mean_diff[0] : std::numeric_limits<double>::quiet_NaN();
}

nlohmann::json BehaviourReport::to_json() const {
  nlohmann::json per_class = nlohmann::json::array();
  for (size_t c = 0; c < classes.size(); ++c) {
    nlohmann::json lp = nlohmann::json::object();
    for (size_t j = 0; j < classes.size(); ++j) lp[classes[j]] = mean_logprob[c][j];
    nlohmann::json e{{"class", classes[c]}, {"n", n[c]}, {"mean_logprob", lp}};
    if (!mean_diff.empty()) {
      e["mean_logprob_diff"] = mean_diff[c];
      e["mean_logprob_diff_ci95"] = {diff_low[c], diff_high[c]};
    }
    per_class.push_back(e);
  }
  nlohmann::json j{{"relation", relation}, {"per_class", per_class}};
  if (classes.size() == 2) {
    j["difference"] = "log P(' " + classes[1] + "') - log P(' " + classes[0] + "')";
    j["gap"] = gap();
  }
  return j;
}

BehaviourReport concept_behaviour(harness::TextModel& tm, const ConceptDataset& ds,
                                  const std::vector<const ConceptRecord*>& records,
                                  const std::vector<int64_t>& positions, const std::string& relation,
                                  const BatchHooks& hooks, int64_t batch_size) {
  std::vector<const ConceptRecord*> chosen;
  std::vector<int64_t> chosen_pos;
  for (size_t i = 0; i < records.size(); ++i) {
    if (records[i]->relation == relation) chosen.push_back(records[i]), chosen_pos.push_back(positions[i]);
  }
  if (chosen.empty()) {
    throw InputError(ds.path.string(), "--behaviour", "a relation some probe record has",
                     "no probe record with relation '" + relation + "'");
  }
  const auto k = static_cast<size_t>(ds.num_classes());
  std::vector<std::vector<int64_t>> continuations;
  for (const auto& c : ds.classes) continuations.push_back(tm.encode_continuation(with_leading_space(c)));

  BehaviourReport rep;
  rep.relation = relation;
  rep.classes = ds.classes;
  rep.n.assign(k, 0);
  rep.mean_logprob.assign(k, std::vector<double>(k, 0.0));
  std::vector<std::vector<double>> diffs(k);
  const auto n = static_cast<int64_t>(chosen.size());
  for (int64_t start = 0; start < n; start += batch_size) {
    const int64_t end = std::min(n, start + batch_size);
    std::vector<harness::ScoreItem> items;
    for (int64_t i = start; i < end; ++i) {
      const auto prompt = tm.encode_prompt(chosen[i]->prompt);
      for (const auto& cont : continuations) items.push_back({prompt, cont});
    }
    // Each prompt is scored once per class, so a batch row's position repeats k times.
    std::vector<int64_t> pos;
    for (int64_t i = start; i < end; ++i) pos.insert(pos.end(), k, chosen_pos[i]);
    const auto handles = hooks ? hooks(pos) : std::vector<harness::HookHandle>{};
    const auto results = harness::score(tm.model(), items, static_cast<int64_t>(items.size()), harness::Padding::kRight);
    for (int64_t i = start; i < end; ++i) {
      const auto label = static_cast<size_t>(chosen[i]->label);
      const size_t row = static_cast<size_t>(i - start) * k;
      ++rep.n[label];
      for (size_t j = 0; j < k; ++j) rep.mean_logprob[label][j] += results[row + j].sum();
      if (k == 2) diffs[label].push_back(results[row + 1].sum() - results[row].sum());
    }
  }
  for (size_t c = 0; c < k; ++c) {
    for (auto& v : rep.mean_logprob[c]) v = rep.n[c] > 0 ? v / static_cast<double>(rep.n[c]) : 0.0;
  }
  if (k == 2) {
    for (size_t c = 0; c < k; ++c) {
      const auto& d = diffs[c];
      const double m = d.empty() ? 0.0 : [&] { double s = 0; for (double x : d) s += x; return s / static_cast<double>(d.size()); }();
      double ss = 0;
      for (double x : d) ss += (x - m) * (x - m);
      const double se = d.size() > 1 ? std::sqrt(ss / static_cast<double>(d.size() - 1) / static_cast<double>(d.size())) : 0.0;
      rep.mean_diff.push_back(m), rep.diff_low.push_back(m - 1.96 * se), rep.diff_high.push_back(m + 1.96 * se);
    }
  }
  return rep;
}

}  // namespace editgate::editors
