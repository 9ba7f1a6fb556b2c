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

nlohmann::json spread(const std::vector<double>& v) {
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  return nlohmann::json{{"values", v},
                        {"mean", std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size())},
                        {"min", *lo},
                        {"max", *hi}};
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
    const ProbeSplit erased =
        split.probe_transformed([&](const at::Tensor& x) { return fit.eraser.apply(x.to(at::kDouble)); });
    const ProbeReport before = probe_logistic_cv(split.probe(), options.cv, options.probe);
    const ProbeReport after = probe_logistic_cv(erased, options.cv, options.probe);
    out.seeds.push_back(seed);
    out.accuracy_before.push_back(before.accuracy);
    out.accuracy_after.push_back(after.accuracy);
    out.chance.push_back(after.chance_accuracy);
    out.after_beats_chance += after.beats_chance();
  }
  return out;
}

std::string SplitSensitivity::summary() const {
  const nlohmann::json j = to_json();
  const auto& after = j["linear_after"];
  std::ostringstream s;
  s << std::fixed << std::setprecision(4) << seeds.size() << " fresh subject splits: probe after "
    << after["mean"].get<double>() << " on average (min " << after["min"].get<double>() << ", max "
    << after["max"].get<double>() << "; chance " << j["chance"]["mean"].get<double>() << "), above chance in "
    << after_beats_chance << " of " << seeds.size();
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
