#include "editors/scrub.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <memory>

#include "editors/eraser_hook.h"
#include "editors/labeled_data.h"
#include "editors/text_corpus.h"
#include "harness/atomic_file.h"
#include "harness/json_file.h"
#include "harness/output_guard.h"
#include "harness/scoring.h"
#include "harness/text_model.h"

namespace editgate::editors {
namespace {

harness::HookPoint scrub_point(int64_t layer) { return {layer, harness::HookSite::kResidPre}; }

// Thrown by the hook after the last scrubbed layer: the rest of the pass (the
// last block and the unembedding over every token of the batch) is not needed.
struct StopForward {};

// The largest |E[x | z = c] - E[x]| over classes and dimensions: 0 when the
// class-conditional means are equal, which is what LEACE guarantees on its fit data.
double class_mean_gap(const at::Tensor& x, const at::Tensor& z, int64_t k) {
  const at::Tensor xd = x.to(at::kDouble);
  const at::Tensor mean = xd.mean(0);
  double gap = 0.0;
  for (int64_t c = 0; c < k; ++c) {
    const at::Tensor rows = xd.index({z == c});
    if (rows.size(0) == 0) continue;
    gap = std::max(gap, (rows.mean(0) - mean).abs().max().item<double>());
  }
  return gap;
}

// Activations at every scrubbed hook at each record's position: [L] tensors [n, d].
// Hooks already installed (the scrubber) act first, so these read the erased stream.
std::vector<at::Tensor> collect_all_layers(harness::Transformer& model, const EncodedRecords& s, int64_t batch_size) {
  const int64_t L = model.config().n_layers;
  std::vector<std::vector<at::Tensor>> chunks(static_cast<size_t>(L));
  const auto n = static_cast<int64_t>(s.prompts.size());
  for (int64_t start = 0; start < n; start += batch_size) {
    const int64_t end = std::min(n, start + batch_size);
    const harness::PaddedBatch padded = harness::pad_batch(
        std::vector<std::vector<int64_t>>(s.prompts.begin() + start, s.prompts.begin() + end), harness::Padding::kRight);
    const at::Tensor cols =
        at::tensor(std::vector<int64_t>(s.positions.begin() + start, s.positions.begin() + end), at::kLong);
    std::vector<harness::HookHandle> handles;
    for (int64_t l = 0; l < L; ++l) {
      handles.push_back(model.hooks().add(scrub_point(l), [&chunks, l, cols](at::Tensor& act, const harness::HookContext&) {
        const at::Tensor idx = cols.to(act.device()).view({-1, 1, 1}).expand({act.size(0), 1, act.size(2)});
        chunks[static_cast<size_t>(l)].push_back(act.gather(1, idx).squeeze(1).to(at::kCPU, at::kFloat));
      }));
    }
    // Logits at one column per row only: none are read.
    const at::Tensor logit_cols = at::zeros({end - start, 1}, at::kLong).to(model.device());
    model.forward(padded.ids.to(model.device()),
                  harness::ForwardOptions{padded.mask.to(model.device()), {}, nullptr, logit_cols});
  }
  std::vector<at::Tensor> out;
  for (auto& c : chunks) out.push_back(at::cat(c, 0));
  return out;
}

// Fits the erasers in one pass over the fit split (see the header).
void fit_in_sequence(harness::Transformer& model, const EncodedRecords& fit, int64_t k, const LeaceOptions& leace,
                     ScrubResult& r) {
  const int64_t L = model.config().n_layers;
  const harness::PaddedBatch padded = harness::pad_batch(fit.prompts, harness::Padding::kRight);
  const at::Tensor valid = padded.mask.to(at::kBool).flatten();  // [b * pos]
  const at::Tensor z = fit.labels.view({-1, 1}).expand_as(padded.mask).flatten().index({valid});
  r.fit_rows = z.size(0);
  r.erasers.resize(static_cast<size_t>(L));
  r.layers.resize(static_cast<size_t>(L));
  std::vector<harness::HookHandle> handles;
  for (int64_t l = 0; l < L; ++l) {
    handles.push_back(model.hooks().add(scrub_point(l), [&, l](at::Tensor& act, const harness::HookContext&) {
      const at::Tensor flat = act.flatten(0, 1);  // [b * pos, d]
      const at::Tensor rows = flat.index({valid.to(act.device())}).to(at::kCPU, at::kDouble);
      LeaceFit f = fit_leace(LabeledData{rows, z, k, {}}, leace);
      auto& layer = r.layers[static_cast<size_t>(l)];
      layer.hook = scrub_point(l).to_string();
      layer.fit = f.report;
      layer.class_mean_gap_before = class_mean_gap(rows, z, k);
      layer.class_mean_gap_after = class_mean_gap(f.eraser.apply(rows), z, k);
      r.erasers[static_cast<size_t>(l)] = f.eraser;
      act = f.eraser.to(act.device(), act.scalar_type()).apply(act);
    }));
  }
  handles.push_back(model.hooks().add({L - 1, harness::HookSite::kResidPost},
                                      [](at::Tensor&, const harness::HookContext&) { throw StopForward{}; }));
  try {
    model.forward(padded.ids.to(model.device()), harness::ForwardOptions{padded.mask.to(model.device()), {}, nullptr, {}});
  } catch (const StopForward&) {
  }
}

TextNll text_nll(harness::TextModel& tm, const TextCorpus& text, int64_t max_tokens, int64_t batch_size) {
  std::vector<harness::ScoreItem> items;
  text.for_each([&](std::string_view doc) {
    std::vector<int64_t> ids = tm.encode_prompt(doc);
    if (static_cast<int64_t>(ids.size()) > max_tokens + 1) ids.resize(static_cast<size_t>(max_tokens + 1));
    if (ids.size() >= 2) items.push_back({{ids.front()}, {ids.begin() + 1, ids.end()}});
    return true;
  });
  TextNll out;
  double sum = 0.0;
  for (const auto& res : harness::score(tm.model(), items, batch_size)) {
    sum -= res.sum();
    out.tokens += static_cast<int64_t>(res.token_logprobs.size());
    ++out.documents;
  }
  out.mean_nll = out.tokens > 0 ? sum / static_cast<double>(out.tokens) : 0.0;
  return out;
}

std::vector<const ConceptRecord*> pointers(const std::vector<ConceptRecord>& records) {
  std::vector<const ConceptRecord*> out;
  for (const auto& r : records) out.push_back(&r);
  return out;
}

}  // namespace

double TextNll::perplexity() const { return std::exp(mean_nll); }

nlohmann::json TextNll::to_json() const {
  return {{"documents", documents}, {"tokens", tokens}, {"mean_nll", mean_nll}, {"perplexity", perplexity()}};
}

std::vector<harness::HookHandle> install_scrubber(harness::Transformer& model, const std::vector<Eraser>& erasers) {
  std::vector<harness::HookHandle> handles;
  for (size_t l = 0; l < erasers.size(); ++l) {
    handles.push_back(install_eraser(model, scrub_point(static_cast<int64_t>(l)), erasers[l]));
  }
  return handles;
}

ScrubResult scrub_model(harness::TextModel& tm, const ConceptDataset& ds, const ScrubOptions& options) {
  c10::NoGradGuard no_grad;
  const int64_t k = ds.num_classes();
  std::map<std::string, int64_t> subject_ids;
  const EncodedRecords fit = encode_records(tm, ds.fit, ds.path, subject_ids);
  const EncodedRecords train = encode_records(tm, ds.probe_train, ds.path, subject_ids);
  const EncodedRecords test = encode_records(tm, ds.probe_test, ds.path, subject_ids);

  ScrubResult r;
  fit_in_sequence(tm.model(), fit, k, options.leace, r);

  // Records with objects (fact recall) and the probe records (behaviour), with their positions.
  std::vector<const ConceptRecord*> with_object, probe_records;
  std::vector<int64_t> object_pos, probe_pos;
  using Part = std::pair<const std::vector<ConceptRecord>*, const EncodedRecords*>;
  for (const auto& [part, enc] : {Part{&ds.fit, &fit}, Part{&ds.probe_train, &train}, Part{&ds.probe_test, &test}}) {
    for (size_t i = 0; i < part->size(); ++i) {
      if (part != &ds.fit) probe_records.push_back(&(*part)[i]), probe_pos.push_back(enc->positions[i]);
      if ((*part)[i].object.empty()) continue;
      with_object.push_back(&(*part)[i]);
      object_pos.push_back(enc->positions[i]);
    }
  }
  const auto extra = pointers(options.extra_facts);
  const std::vector<int64_t> extra_pos(extra.size(), 0);  // unused: no position-targeted eraser
  const auto point = scrub_point(0);                      // unused: erasers are installed around the calls
  const auto measure = [&](bool erased) {
    std::vector<harness::HookHandle> handles;
    if (erased) handles = install_scrubber(tm.model(), r.erasers);
    std::vector<at::Tensor> tr = collect_all_layers(tm.model(), train, options.batch_size);
    std::vector<at::Tensor> te = collect_all_layers(tm.model(), test, options.batch_size);
    for (size_t l = 0; l < tr.size(); ++l) {
      // The cross-validated probe pools both parts and folds by subject anyway. Pooled here
      // because at layer 0 the residual at a subject's last token is that token's embedding,
      // so subjects sharing it give equal rows, which from_parts refuses as leakage.
      const LabeledData pooled{at::cat({tr[l], te[l]}), at::cat({train.labels, test.labels}), k,
                               at::cat({train.groups, test.groups})};
      const ProbeSplit split = ProbeSplit::by_group(pooled, 0.5, options.cv.seed);
      (erased ? r.layers[l].linear_after : r.layers[l].linear_before) = probe_logistic_cv(split, options.cv, options.probe);
    }
    (erased ? r.recall_erased : r.recall_base) =
        fact_recall(tm, point, with_object, object_pos, nullptr, false, options.batch_size);
    if (!extra.empty()) {
      (erased ? r.extra_facts_erased : r.extra_facts_base) =
          fact_recall(tm, point, extra, extra_pos, nullptr, false, options.batch_size);
    }
    if (!options.behaviour_relation.empty()) {
      (erased ? r.behaviour_erased : r.behaviour_base) =
          concept_behaviour(tm, ds, probe_records, probe_pos, options.behaviour_relation, {}, options.batch_size);
    }
    if (options.text != nullptr) {
      (erased ? r.text_erased : r.text_base) = text_nll(tm, *options.text, options.text_max_tokens, options.batch_size);
    }
  };
  measure(false);
  measure(true);
  return r;
}

nlohmann::json ScrubResult::to_json() const {
  nlohmann::json layers_j = nlohmann::json::array();
  for (const auto& l : layers) {
    layers_j.push_back({{"hook", l.hook},
                        {"rank", l.fit.rank},
                        {"class_mean_gap_before", l.class_mean_gap_before},
                        {"class_mean_gap_after", l.class_mean_gap_after},
                        {"linear_before", l.linear_before.to_json()},
                        {"linear_after", l.linear_after.to_json()},
                        {"fit", l.fit.to_json()}});
  }
  nlohmann::json j{{"mode", "scrub"},
                   {"positions", "all"},
                   {"fit_rows", fit_rows},
                   {"layers", layers_j},
                   {"recall_base", recall_base.to_json()},
                   {"recall_erased", recall_erased.to_json()},
                   {"recall_drop", recall_base.rate() - recall_erased.rate()},
                   {"guarantee", "each layer's input is linearly guarded on the fit data, pooled over token "
                                 "positions; a non-linear probe, or a linear one at one position, may still "
                                 "recover the concept"}};
  if (extra_facts_base) {
    j["extra_facts_base"] = extra_facts_base->to_json();
    j["extra_facts_erased"] = extra_facts_erased->to_json();
  }
  if (behaviour_base) {
    j["behaviour_base"] = behaviour_base->to_json();
    j["behaviour_erased"] = behaviour_erased->to_json();
  }
  if (text_base) {
    j["text_base"] = text_base->to_json();
    j["text_erased"] = text_erased->to_json();
  }
  return j;
}

void write_scrub_outputs(const std::filesystem::path& out_dir, const ScrubResult& result,
                         const std::map<std::string, std::string>& metadata) {
  const std::string report = harness::json_text(result.to_json()) + "\n";
  write_directory_atomic(out_dir, [&](const std::filesystem::path& tmp) {
    for (size_t l = 0; l < result.erasers.size(); ++l) {
      std::map<std::string, std::string> meta = metadata;
      meta["format"] = "editgate.eraser";
      meta["hook"] = result.layers[l].hook;
      meta["positions"] = "all";
      meta["scrub_layer"] = std::to_string(l);
      meta["fit_report"] = result.layers[l].fit.to_json().dump();
      result.erasers[l].save(tmp / (result.layers[l].hook + ".safetensors"), meta);
    }
    write_file_atomic(tmp / "report.json", report);
    harness::write_output_marker(tmp, harness::kEraserOutput);
  });
}

}  // namespace editgate::editors
