#include "editors/split_sensitivity.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <iomanip>
#include <numeric>
#include <sstream>

#include "editors/probe_recovery.h"

namespace editgate::editors {
namespace {

struct Spread {
  double mean, min, max;
};

Spread spread_of(const std::vector<double>& v) {
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  return {std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size()), *lo, *hi};
}

nlohmann::json spread(const std::vector<double>& v) {
  const Spread s = spread_of(v);
  return nlohmann::json{{"values", v}, {"mean", s.mean}, {"min", s.min}, {"max", s.max}};
}

}  // namespace

SplitSensitivity split_sensitivity(const LabeledData& data, const SplitSensitivityOptions& options) {
  TORCH_CHECK(data.groups.defined(), "split_sensitivity needs subject ids (LabeledData::groups)");
  TORCH_CHECK(options.splits > 0, "split_sensitivity needs at least one split");
  SplitSensitivity out;
  out.fractions = options.fractions;
  for (int64_t i = 0; i < options.splits; ++i) {
    const uint64_t seed = options.first_seed + static_cast<uint64_t>(i);
    const auto split = ErasureSplit::by_group(data, data.groups, options.fractions, seed);
    const LeaceFit fit = fit_leace(split.fit(), options.leace);
    const ProbeReport before = probe_logistic_cv(split.probe(), options.cv, options.probe);
    const ProbeReport after = probe_logistic_cv(erased_probe_parts(fit.eraser, split), options.cv, options.probe);
    out.seeds.push_back(seed);
    out.accuracy_before.push_back(before.accuracy);
    out.accuracy_after.push_back(after.accuracy);
    out.chance.push_back(after.chance_accuracy);
    out.after_beats_chance += after.beats_chance();
  }
  return out;
}

std::string SplitSensitivity::summary() const {
  const Spread after = spread_of(accuracy_after);
  std::ostringstream s;
  s << std::fixed << std::setprecision(4) << seeds.size() << " fresh subject splits: probe after " << after.mean
    << " on average (min " << after.min << ", max " << after.max << "; chance " << spread_of(chance).mean
    << "), above chance in " << after_beats_chance << " of " << seeds.size();
  return s.str();
}

nlohmann::json SplitSensitivity::to_json() const {
  return nlohmann::json{{"splits", seeds.size()},
                        {"seeds", seeds},
                        {"subject_shares", {{"fit", fractions.fit}, {"probe_train", fractions.probe_train}}},
                        {"linear_before", spread(accuracy_before)},
                        {"linear_after", spread(accuracy_after)},
                        {"chance", spread(chance)},
                        {"after_beats_chance", after_beats_chance}};
}

}  // namespace editgate::editors
