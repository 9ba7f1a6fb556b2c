#include "editors/erase_model.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <optional>

#include "editors/eraser_hook.h"
#include "editors/erasure_split.h"
#include "editors/probe_recovery.h"
#include "harness/atomic_file.h"
#include "harness/json_file.h"
#include "harness/output_guard.h"
#include "harness/text_model.h"

namespace editgate::editors {
namespace {

// Activations at `point` for one split, with the eraser installed first when given.
LabeledData activations(harness::TextModel& tm, harness::HookPoint point, const EncodedRecords& s, int64_t k,
                        const Eraser* eraser, bool all_positions, int64_t batch_size) {
  std::vector<at::Tensor> chunks;
  const int64_t n = static_cast<int64_t>(s.prompts.size());
  for (int64_t start = 0; start < n; start += batch_size) {
    const int64_t end = std::min(n, start + batch_size);
    const std::vector<std::vector<int64_t>> prompts(s.prompts.begin() + start, s.prompts.begin() + end);
    const std::vector<int64_t> positions(s.positions.begin() + start, s.positions.begin() + end);
    harness::HookHandle handle;
    if (eraser != nullptr) {
      handle = all_positions ? install_eraser(tm.model(), point, *eraser)
                             : install_eraser(tm.model(), point, *eraser, positions);
    }
    chunks.push_back(collect_activations(tm.model(), point, prompts, positions, end - start));
  }
  return LabeledData{at::cat(chunks, 0), s.labels, k, s.groups};
}

// The dataset's three parts pooled and split again by subject, with the shares
// of subjects the dataset itself gives each part. Erasing the collected
// activations equals collecting them with the eraser installed: the eraser
// at a hook changes that hook's output and nothing before it.
SplitSensitivity resplit(const ErasureSplit& split, const EraseModelOptions& options) {
  const std::vector<const LabeledData*> parts = {&split.fit(), &split.probe_train(), &split.probe_test()};
  std::vector<at::Tensor> xs, zs, gs;
  for (const auto* p : parts) xs.push_back(p->x), zs.push_back(p->z), gs.push_back(p->groups);
  const LabeledData pooled{at::cat(xs, 0), at::cat(zs, 0), split.fit().num_classes, at::cat(gs, 0)};
  const auto subjects = [](const LabeledData& d) {
    return static_cast<double>(std::get<0>(at::_unique(d.groups)).size(0));
  };
  const double all = subjects(pooled);
  SplitSensitivityOptions so;
  so.splits = options.resplits;
  so.fractions = {subjects(split.fit()) / all, subjects(split.probe_train()) / all};
  so.leace = options.leace;
  so.probe = options.probe;
  so.cv = options.cv;
  return split_sensitivity(pooled, so);
}

}  // namespace

EraseModelResult erase_model(harness::TextModel& tm, const ConceptDataset& ds, harness::HookPoint point,
                             const EraseModelOptions& options) {
  c10::NoGradGuard no_grad;
  const int64_t k = ds.num_classes();
  std::map<std::string, int64_t> subject_ids;
  const EncodedRecords fit = encode_records(tm, ds.fit, ds.path, subject_ids);
  const EncodedRecords train = encode_records(tm, ds.probe_train, ds.path, subject_ids);
  const EncodedRecords test = encode_records(tm, ds.probe_test, ds.path, subject_ids);
  const auto collect = [&](const EncodedRecords& s, const Eraser* e) {
    return activations(tm, point, s, k, e, options.all_positions, options.batch_size);
  };
  // from_parts refuses rows shared between the parts: the probe never sees the eraser's data.
  const ErasureSplit split = ErasureSplit::from_parts(collect(fit, nullptr), collect(train, nullptr),
                                                      collect(test, nullptr));
  LeaceFit fitted = fit_leace(split.fit(), options.leace);

  EraseModelResult r;
  r.hook = point.to_string();
  r.positions = options.all_positions ? "all" : "record";
  r.eraser = fitted.eraser;
  r.fit = fitted.report;
  const ProbeSplit before = split.probe();
  const ProbeSplit after = ProbeSplit::from_parts(collect(train, &r.eraser), collect(test, &r.eraser));
  r.linear_before = probe_logistic_cv(before, options.cv, options.probe);
  r.linear_after = probe_logistic_cv(after, options.cv, options.probe);
  if (options.quadratic_probe) {
    r.quadratic_before = probe_quadratic_cv(before, options.cv);
    r.quadratic_after = probe_quadratic_cv(after, options.cv);
  }

  std::vector<const ConceptRecord*> with_object;
  std::vector<int64_t> positions;
  using Part = std::pair<const std::vector<ConceptRecord>*, const EncodedRecords*>;
  for (const auto& [part, enc] : {Part{&ds.fit, &fit}, Part{&ds.probe_train, &train}, Part{&ds.probe_test, &test}}) {
    for (size_t i = 0; i < part->size(); ++i) {
      if ((*part)[i].object.empty()) continue;
      with_object.push_back(&(*part)[i]);
      positions.push_back(enc->positions[i]);  // encoded once, above
    }
  }
  r.recall_base = fact_recall(tm, point, with_object, positions, nullptr, options.all_positions, options.batch_size);
  r.recall_erased =
      fact_recall(tm, point, with_object, positions, &r.eraser, options.all_positions, options.batch_size);
  if (!options.behaviour_relation.empty()) {
    std::vector<const ConceptRecord*> probe_records;
    std::vector<int64_t> probe_pos;
    for (const auto& [part, enc] : {Part{&ds.probe_train, &train}, Part{&ds.probe_test, &test}}) {
      for (size_t i = 0; i < part->size(); ++i) probe_records.push_back(&(*part)[i]), probe_pos.push_back(enc->positions[i]);
    }
    const BatchHooks with_eraser = [&](const std::vector<int64_t>& pos) {
      std::vector<harness::HookHandle> h;
      h.push_back(options.all_positions ? install_eraser(tm.model(), point, r.eraser)
                                        : install_eraser(tm.model(), point, r.eraser, pos));
      return h;
    };
    r.behaviour_base = concept_behaviour(tm, ds, probe_records, probe_pos, options.behaviour_relation, {}, options.batch_size);
    r.behaviour_erased =
        concept_behaviour(tm, ds, probe_records, probe_pos, options.behaviour_relation, with_eraser, options.batch_size);
  }
  if (options.resplits > 0) r.resplits = resplit(split, options);
  return r;
}

nlohmann::json EraseModelResult::to_json() const {
  nlohmann::json j{{"hook", hook},
                   {"positions", positions},
                   {"fit", fit.to_json()},
                   {"linear_before", linear_before.to_json()},
                   {"linear_after", linear_after.to_json()},
                   {"recall_base", recall_base.to_json()},
                   {"recall_erased", recall_erased.to_json()},
                   {"recall_drop", recall_base.rate() - recall_erased.rate()},
                   {"guarantee", "LEACE guards against linear probes only; a non-linear probe may still "
                                 "recover the concept"}};
  if (quadratic_before) j["quadratic_before"] = quadratic_before->to_json();
  if (quadratic_after) j["quadratic_after"] = quadratic_after->to_json();
  if (resplits) j["resplits"] = resplits->to_json();
  if (behaviour_base) {
    j["behaviour_base"] = behaviour_base->to_json();
    j["behaviour_erased"] = behaviour_erased->to_json();
  }
  return j;
}

void write_erase_model_outputs(const std::filesystem::path& out_dir, const EraseModelResult& result,
                               const std::map<std::string, std::string>& metadata) {
  std::map<std::string, std::string> meta = metadata;
  meta["format"] = "editgate.eraser";
  meta["hook"] = result.hook;
  meta["positions"] = result.positions;
  meta["fit_report"] = result.fit.to_json().dump();
  const std::string report = harness::json_text(result.to_json()) + "\n";
  write_directory_atomic(out_dir, [&](const std::filesystem::path& tmp) {
    result.eraser.save(tmp / "eraser.safetensors", meta);
    write_file_atomic(tmp / "report.json", report);
    harness::write_output_marker(tmp, harness::kEraserOutput);
  });
}

}  // namespace editgate::editors
