#include "editors/edit_runner.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <fmt/format.h>

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "editors/context_templates.h"
#include "editors/edit_hparams.h"
#include "editors/embedded_hparams.h"
#include "editors/fine_tune.h"
#include "editors/grace.h"
#include "editors/key_position_warnings.h"
#include "editors/memit.h"
#include "editors/mend.h"
#include "editors/mend_editor_file.h"
#include "editors/rome.h"
#include "editors/second_moment.h"
#include "harness/checkpoint.h"
#include "harness/file_io.h"
#include "harness/input_error.h"
#include "harness/json_file.h"
#include "harness/output_guard.h"
#include "harness/safetensors_reader.h"
#include "harness/scoring.h"
#include "harness/sha256.h"
#include "harness/codebook_adapter.h"
#include "harness/steering_adapter.h"

namespace editgate::editors {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// The methods that read an edit's key at the subject's last token (the others
// train on the whole prompt or key on its last token).
bool keys_on_subject_last(const std::string& method) {
  return method == "rome" || method == "memit" || method == "alphaedit";
}

void check_layers(const std::vector<int64_t>& layers, int64_t n_layers, const std::string& source) {
  for (int64_t l : layers) {
    if (l < 0 || l >= n_layers) {
      throw InputError(source, "layers", fmt::format("layers in [0, {}) for this model", n_layers), std::to_string(l));
    }
  }
}

// Statistics of `layers` when `m.adjustment`; records their keys in the manifest
// and the ridge the method adds to C (`ridge_used`, relative to mean(diag C), and
// the absolute amount), so a reader need not know which methods honour mom2_ridge.
std::map<int64_t, at::Tensor> statistics(harness::TextModel& tm, const EditJob& job, const Mom2Params& m,
                                         const std::vector<int64_t>& layers, double ridge_used, EditManifest& manifest) {
  std::map<int64_t, at::Tensor> out;
  if (!m.adjustment) return out;
  if (!job.corpus) {
    throw InputError(job.hparams_source, "mom2_adjustment",
                     "a corpus for the second-moment statistics (--corpus FILE)", "none",
                     "pass --corpus, or set \"mom2_adjustment\": false to edit without C");
  }
  SecondMomentOptions o;
  o.layers = layers;
  o.max_tokens = job.mom2_max_tokens.value_or(m.max_tokens);
  o.max_length = m.max_length;
  o.stored_dtype = m.dtype == "float64" ? at::kDouble : at::kFloat;
  o.cache_dir = job.stats_cache_dir;
  o.weights_sha256 = tm.loaded().weights_sha256;
  o.show_progress = job.show_progress;
  const auto t0 = Clock::now();
  for (auto& s : compute_second_moments(tm, *job.corpus, o)) {
    manifest.statistics.push_back({{"layer", s.layer},
                                   {"key", s.key},
                                   {"key_sha256", s.key_sha256},
                                   {"corpus", job.corpus->name()},
                                   {"n_tokens", s.n_tokens},
                                   {"from_cache", s.from_cache},
                                   {"cache_file", s.cache_file.string()},
                                   {"ridge", ridge_used},
                                   {"ridge_absolute", ridge_used * s.mom2.diagonal().mean().item<double>()}});
    out[s.layer] = std::move(s.mom2);
  }
  manifest.phase_seconds["statistics"] = seconds_since(t0);
  return out;
}

// Top-1 next token after each prompt, batched.
std::vector<int64_t> top1(harness::TextModel& tm, const std::vector<std::string>& prompts) {
  if (prompts.empty()) return {};
  c10::NoGradGuard ng;
  std::vector<std::vector<int64_t>> ids;
  for (const auto& p : prompts) ids.push_back(tm.encode_prompt(p));
  const auto am = harness::next_token_logprobs(tm.model(), ids, 256).argmax(1).contiguous();
  return {am.data_ptr<int64_t>(), am.data_ptr<int64_t>() + am.numel()};
}

// The rounds of a (sequential) edit and what is measured after each.
class Rounds {
 public:
  Rounds(harness::TextModel& tm, const EditJob& job) : job_(job) {
    const auto n = static_cast<int64_t>(job.requests.size());
    const int64_t b = job.batch_size > 0 ? job.batch_size : n;
    for (int64_t i = 0; i < n; i += b) {
      rounds_.emplace_back(job.requests.begin() + i, job.requests.begin() + std::min(n, i + b));
    }
    if (job.batch_size <= 0) return;
    base_top1_ = top1(tm, job.preservation_prompts);
    for (const auto& r : job.requests) {
      new_id_.push_back(tm.encode_continuation(with_leading_space(r.target_new)).front());
    }
  }
  const std::vector<std::vector<EditRequest>>& rounds() const { return rounds_; }

  void after_round(harness::TextModel& tm, size_t round, EditManifest& man) {
    if (job_.batch_size <= 0) return;
    const auto t0 = Clock::now();
    done_ += rounds_[round].size();
    std::vector<std::string> prompts;
    for (size_t i = 0; i < done_; ++i) prompts.push_back(job_.requests[i].filled_prompt());
    const auto eff = top1(tm, prompts);
    int64_t hits = 0;
    for (size_t i = 0; i < done_; ++i) hits += eff[i] == new_id_[i] ? 1 : 0;
    const auto pres = top1(tm, job_.preservation_prompts);
    int64_t kept = 0;
    for (size_t i = 0; i < pres.size(); ++i) kept += pres[i] == base_top1_[i] ? 1 : 0;
    if (!man.extra.contains("sequential")) man.extra["sequential"] = nlohmann::ordered_json::array();
    man.extra["sequential"].push_back(
        {{"round", round + 1},
         {"edits", done_},
         {"efficacy", static_cast<double>(hits) / static_cast<double>(done_)},
         {"preservation", pres.empty() ? 0.0 : static_cast<double>(kept) / static_cast<double>(pres.size())},
         {"preservation_n", pres.size()}});
    man.phase_seconds["sequential_eval"] += seconds_since(t0);
  }

 private:
  const EditJob& job_;
  std::vector<std::vector<EditRequest>> rounds_;
  std::vector<int64_t> base_top1_;  // [preservation prompts]
  std::vector<int64_t> new_id_;     // [requests] first token of " target_new"
  size_t done_ = 0;
};

nlohmann::ordered_json value_json(const ValueResult& v) {
  return {{"steps", v.steps},     {"loss", v.loss}, {"target_nll", v.nll}, {"kl", v.kl},
          {"early_stopped", v.early_stopped}, {"delta_norm", v.delta.norm().item<double>()},
          {"v0_norm", v.v0.norm().item<double>()}};
}

void run_rome(harness::TextModel& tm, const EditJob& job, EditManifest& man) {
  auto h = parse_rome_hparams(job.hparams, job.hparams_source);
  if (job.layers) {
    if (job.layers->size() != 1) throw InputError("", "--layers", "exactly one layer for ROME", std::to_string(job.layers->size()));
    h.layer = job.layers->front();
  }
  check_layers({h.layer}, tm.model().config().n_layers, job.hparams_source);
  man.hparams = to_json(h);
  auto t0 = Clock::now();
  man.context_templates = sample_context_templates(tm, h.context, job.seed);
  man.phase_seconds["context_templates"] = seconds_since(t0);
  const auto mom2 = statistics(tm, job, h.mom2, {h.layer}, h.mom2.ridge, man);
  t0 = Clock::now();
  const auto c_inv = mom2.empty() ? at::Tensor() : rome_inverse_mom2(mom2.at(h.layer), h.mom2.ridge);
  man.phase_seconds["inverse"] = seconds_since(t0);
  Rounds rounds(tm, job);
  std::vector<RomeUpdate> ups;
  for (size_t i = 0; i < rounds.rounds().size(); ++i) {
    for (auto& u : apply_rome(tm, rounds.rounds()[i], h, man.context_templates, c_inv)) ups.push_back(std::move(u));
    rounds.after_round(tm, i, man);
  }
  double keys = 0, values = 0, update = 0;
  for (const auto& u : ups) {
    keys += u.key_seconds;
    values += u.value_seconds;
    update += u.update_seconds;
    auto j = value_json(u.value);
    j["case_id"] = u.case_id;
    j["residual_norm"] = u.residual.norm().item<double>();
    j["seconds"] = u.key_seconds + u.value_seconds + u.update_seconds;
    man.per_request.push_back(j);
  }
  man.phase_seconds["keys"] = keys;
  man.phase_seconds["values"] = values;
  man.phase_seconds["update"] = update;
}

void run_memit(harness::TextModel& tm, const EditJob& job, EditManifest& man, MemitSolver solver) {
  auto h = parse_memit_hparams(job.hparams, job.hparams_source);
  if (job.layers) h.layers = *job.layers;
  if (solver == MemitSolver::kAlphaEdit && !h.mom2.adjustment) {
    throw InputError(job.hparams_source, "mom2_adjustment", "true for AlphaEdit (its null-space projector comes from C)",
                     "false");
  }
  check_layers(h.layers, tm.model().config().n_layers, job.hparams_source);
  man.hparams = to_json(h);
  auto t0 = Clock::now();
  man.context_templates = sample_context_templates(tm, h.context, job.seed);
  man.phase_seconds["context_templates"] = seconds_since(t0);
  auto mom2 = statistics(tm, job, h.mom2, h.layers, solver == MemitSolver::kMemit ? h.mom2.ridge : 0.0, man);
  AlphaEditState state;  // one per run: K_p accumulates over this run's rounds only
  Rounds rounds(tm, job);
  nlohmann::ordered_json layers = nlohmann::ordered_json::array();
  for (size_t i = 0; i < rounds.rounds().size(); ++i) {
    const auto& batch = rounds.rounds()[i];
    const auto r = apply_memit(tm, batch, h, man.context_templates, mom2, solver, &state);
    for (size_t k = 0; k < r.values.size(); ++k) {
      auto j = value_json(r.values[k]);
      j["case_id"] = batch[k].case_id;
      man.per_request.push_back(j);
    }
    for (const auto& l : r.layers) {
      layers.push_back({{"round", i + 1}, {"layer", l.layer}, {"residual_norm_before", l.residual_norm}, {"seconds", l.seconds}});
    }
    man.extra["final_residual_norm"] = r.final_residual_norm;
    man.phase_seconds["values"] += r.value_seconds;
    man.phase_seconds["keys"] += r.key_seconds;
    man.phase_seconds["update"] += r.solve_seconds;
    rounds.after_round(tm, i, man);
  }
  man.extra["layers"] = layers;
  if (solver == MemitSolver::kAlphaEdit) man.extra["null_space_dims"] = state.null_dims;
}

void run_ft(harness::TextModel& tm, const EditJob& job, EditManifest& man) {
  auto h = parse_ft_hparams(job.hparams, job.hparams_source);
  if (job.layers) {
    if (job.layers->size() != 1) throw InputError("", "--layers", "exactly one layer for FT-L", std::to_string(job.layers->size()));
    h.layer = job.layers->front();
  }
  check_layers({h.layer}, tm.model().config().n_layers, job.hparams_source);
  man.hparams = to_json(h);
  const auto t0 = Clock::now();
  Rounds rounds(tm, job);
  nlohmann::ordered_json losses = nlohmann::ordered_json::array();
  for (size_t i = 0; i < rounds.rounds().size(); ++i) {
    losses.push_back(apply_fine_tune(tm, rounds.rounds()[i], h).losses);
    rounds.after_round(tm, i, man);
  }
  man.phase_seconds["update"] = seconds_since(t0);
  man.extra["losses"] = losses;
}

// GRACE writes no weight: the codebook (extended when the model already has one
// at this layer) is installed in `tm` and declared as the manifest's adapter.
void run_grace(harness::TextModel& tm, const EditJob& job, EditManifest& man) {
  auto h = parse_grace_hparams(job.hparams, job.hparams_source);
  if (job.layers) {
    if (job.layers->size() != 1) throw InputError("", "--layers", "exactly one layer for GRACE", std::to_string(job.layers->size()));
    h.layer = job.layers->front();
  }
  check_layers({h.layer}, tm.model().config().n_layers, job.hparams_source);
  if (tm.codebook() != nullptr && tm.codebook()->layer != h.layer) {
    throw InputError(job.hparams_source, "layers",
                     fmt::format("layer {} (the model's existing GRACE codebook is there)", tm.codebook()->layer),
                     std::to_string(h.layer));
  }
  man.hparams = to_json(h);
  auto codebook = tm.codebook() != nullptr ? *tm.codebook() : harness::Codebook::empty(tm.model().config(), h.layer);
  const int64_t before = codebook.size();
  Rounds rounds(tm, job);
  std::map<std::string, int64_t> actions;
  for (size_t i = 0; i < rounds.rounds().size(); ++i) {
    for (const auto& r : apply_grace(tm, rounds.rounds()[i], h, codebook)) {
      man.per_request.push_back({{"case_id", r.case_id}, {"action", r.action}, {"entry", r.entry},
                                 {"distance", r.distance}, {"steps", r.steps}, {"loss", r.nll}, {"target_nll", r.nll},
                                 {"early_stopped", r.early_stopped}, {"seconds", r.seconds}});
      man.phase_seconds["values"] += r.seconds;
      ++actions[r.action];
    }
    rounds.after_round(tm, i, man);
  }
  man.adapter = {{"kind", harness::kCodebookAdapterKind},
                 {"file", harness::kCodebookFile},
                 {"layer", h.layer},
                 {"key_hook", fmt::format("blocks.{}.mlp.hook_post", h.layer)},
                 {"value_hook", fmt::format("blocks.{}.hook_mlp_out", h.layer)},
                 {"entries", codebook.size()},
                 {"entries_before", before}};
  man.extra["codebook_actions"] = actions;
}

// MEND: the editor directory fixes the weights and hyperparameters; one
// forward/backward pass and one hypernetwork pass per request.
MendEditor load_mend_editor(const harness::TextModel& tm, const EditJob& job) {
  if (job.editor_dir.empty()) {
    throw InputError("", "--editor", "a trained MEND editor directory with --method mend", "none",
                     "train one with `editgate mend train --model DIR --requests FILE --out DIR`");
  }
  if (job.layers) throw InputError("", "--layers", "no --layers with MEND (the editor fixes its weights)", "--layers");
  return read_mend_editor(job.editor_dir, tm);
}

void run_mend(harness::TextModel& tm, const EditJob& job, EditManifest& man) {
  auto editor = load_mend_editor(tm, job);
  man.hparams = to_json(editor.hparams);
  man.hparams_source = (job.editor_dir / kMendConfigFile).string();
  man.extra["mend_editor"] = {{"dir", job.editor_dir.string()}, {"training", editor.config.value("training", nlohmann::json())},
                              {"base", editor.config.value("base", nlohmann::json())}};
  Rounds rounds(tm, job);
  for (size_t i = 0; i < rounds.rounds().size(); ++i) {
    for (const auto& r : apply_mend(tm, editor.network, rounds.rounds()[i])) {
      man.per_request.push_back({{"case_id", r.case_id}, {"steps", 1}, {"loss", r.nll_before}, {"target_nll", r.nll_after},
                                 {"update_norms", r.update_norms}, {"seconds", r.seconds}});
      man.phase_seconds["update"] += r.seconds;
    }
    rounds.after_round(tm, i, man);
  }
}

// The stable names W_out of `layers` after the --layers override, checked against the model.
std::vector<std::string> w_out_names(const EditJob& job, std::vector<int64_t> layers, int64_t n_layers) {
  if (job.layers) layers = *job.layers;
  check_layers(layers, n_layers, job.layers ? std::string("--layers") : job.hparams_source);
  std::vector<std::string> out;
  for (int64_t l : layers) out.push_back(fmt::format("blocks.{}.mlp.W_out", l));
  return out;
}

// Every method `editgate edit` knows, in one table: the CLI's choices, the
// planned weights (parsed from the hparams as the runner will) and the runner.
// A method missing here is refused; nothing falls through to a default.
const std::vector<EditorEntry>& registry() {
  static const std::vector<EditorEntry> entries = {
      {"rome", "rank-one update of one layer's W_out (Meng et al. 2022)",
       [](const harness::TextModel&, const EditJob& job, int64_t n) {
         return w_out_names(job, {parse_rome_hparams(job.hparams, job.hparams_source).layer}, n);
       },
       [](harness::TextModel& tm, const EditJob& job, EditManifest& man) { run_rome(tm, job, man); }},
      {"memit", "a batch of edits spread over several layers' W_out (Meng et al. 2023)",
       [](const harness::TextModel&, const EditJob& job, int64_t n) {
         return w_out_names(job, parse_memit_hparams(job.hparams, job.hparams_source).layers, n);
       },
       [](harness::TextModel& tm, const EditJob& job, EditManifest& man) { run_memit(tm, job, man, MemitSolver::kMemit); }},
      {"alphaedit", "MEMIT projected onto the null space of preserved keys (Fang et al. 2025)",
       [](const harness::TextModel&, const EditJob& job, int64_t n) {
         return w_out_names(job, parse_memit_hparams(job.hparams, job.hparams_source).layers, n);
       },
       [](harness::TextModel& tm, const EditJob& job, EditManifest& man) {
         run_memit(tm, job, man, MemitSolver::kAlphaEdit);
       }},
      {"ft", "fine-tuning of one layer's W_out under an L-infinity bound (FT-L)",
       [](const harness::TextModel&, const EditJob& job, int64_t n) {
         return w_out_names(job, {parse_ft_hparams(job.hparams, job.hparams_source).layer}, n);
       },
       [](harness::TextModel& tm, const EditJob& job, EditManifest& man) { run_ft(tm, job, man); }},
      {"grace", "a codebook adapter at one layer, no weight changed (Hartvigsen et al. 2023)",
       [](const harness::TextModel&, const EditJob&, int64_t) { return std::vector<std::string>{}; },
       [](harness::TextModel& tm, const EditJob& job, EditManifest& man) { run_grace(tm, job, man); }},
      {"mend", "a trained hypernetwork's rank-one updates (Mitchell et al. 2022; needs --editor)",
       [](const harness::TextModel& tm, const EditJob& job, int64_t) {
         return load_mend_editor(tm, job).network.weights();
       },
       [](harness::TextModel& tm, const EditJob& job, EditManifest& man) { run_mend(tm, job, man); }},
  };
  return entries;
}

}  // namespace

const std::vector<EditorEntry>& edit_methods() { return registry(); }

const EditorEntry& find_editor(std::string_view method) {
  for (const auto& e : registry()) {
    if (e.name == method) return e;
  }
  throw InputError("", "--method", "one of " + edit_method_names(), std::string(method));
}

std::string edit_method_names() {
  std::string names;
  for (const auto& e : registry()) names += (names.empty() ? "" : ", ") + e.name;
  return names;
}

std::string save_edited_checkpoint(const harness::TextModel& tm, EditManifest& manifest,
                                   const std::filesystem::path& out) {
  // A GGUF base brings the tokenizer files made from its metadata.
  std::map<std::string, std::string> files = tm.loaded().companion_files;
  if (manifest.adapter.is_null() && tm.codebook() != nullptr) {
    // A weight edit of a GRACE-edited model keeps its codebook (it was active while editing).
    manifest.adapter = {{"kind", harness::kCodebookAdapterKind}, {"file", harness::kCodebookFile},
                        {"layer", tm.codebook()->layer}, {"entries", tm.codebook()->size()}, {"carried_from_base", true}};
  }
  if (!manifest.adapter.is_null()) {
    const auto kind = manifest.adapter["kind"].get<std::string>();
    const bool codebook = kind == harness::kCodebookAdapterKind;
    TORCH_CHECK(codebook ? tm.codebook() != nullptr : tm.steering() != nullptr,
                "save_edited_checkpoint: the manifest declares a ", kind, " the model does not have installed");
    // Through a temporary file: the writers own the formats and write files only.
    const auto tmp = std::filesystem::temp_directory_path() / fmt::format("editgate-adapter-{}.safetensors", ::getpid());
    if (codebook) {
      harness::write_codebook(tmp, *tm.codebook());
    } else {
      harness::write_steering(tmp, *tm.steering());
    }
    std::string bytes = harness::read_file(tmp, "the adapter file just written", std::uintmax_t{1} << 40);
    std::filesystem::remove(tmp);
    manifest.adapter["sha256"] = harness::sha256_hex(bytes);
    files[manifest.adapter["file"].get<std::string>()] = std::move(bytes);
  }
  auto text = harness::json_text(to_json(manifest)) + "\n";
  files[kManifestFile] = text;
  files[harness::kOutputMarkerFile] = harness::output_marker(harness::kCheckpointOutput);
  harness::save_model(tm.model(), out, tm.dir(), tm.loaded().stored_dtype, files);
  return text;
}

void validate_requests(const harness::TextModel& tm, const std::vector<EditRequest>& requests,
                       const std::string& source) {
  for (const auto& r : requests) {
    try {
      encode_subject_prompt(tm, r.prompt, r.subject, r.case_id);
      encode_target(tm, r.target_new, r.case_id, "requested_rewrite.target_new");
    } catch (const InputError& e) {
      throw InputError(source, e.field(), e.expected(), e.got(), e.hint());
    }
  }
}

EditManifest run_edit(harness::TextModel& tm, const EditJob& job) {
  if (job.requests.empty()) throw InputError(job.requests_source, "", "at least one edit request", "none");
  validate_requests(tm, job.requests, job.requests_source);
  auto& model = tm.model();
  EditManifest man;
  man.editgate_version = std::string(editgate_version());
  man.method = job.method;
  man.hparams_source = job.hparams_source;
  man.seed = job.seed;
  man.requests = job.requests;
  man.base_dir = tm.dir().string();
  man.base_weights_sha256 = tm.loaded().weights_sha256;
  man.device = model.device().str();
  man.compute_dtype = std::string(c10::toString(model.parameters().begin()->second.scalar_type()));
  if (keys_on_subject_last(job.method)) {
    man.warnings = key_position_warnings(tm, job.requests);
    for (const auto& w : man.warnings) std::cerr << "edit: warning: " << w << "\n";
  }

  // Snapshot the weights the method will edit (stored dtype) to measure the
  // deltas, and every parameter's version counter: an in-place write anywhere
  // else (through any view) bumps it, so nothing can change undeclared.
  const auto stored = tm.loaded().stored_dtype;
  std::map<std::string, std::string> stable_of;  // HF name -> stable name
  const EditorEntry& editor = find_editor(job.method);
  const auto planned = editor.planned_weights(tm, job, model.config().n_layers);
  for (const auto& s : planned) stable_of[model.weight_ref(s).tensor_name] = s;
  std::map<std::string, at::Tensor> before;
  for (const auto& [name, stable] : stable_of) before[name] = model.parameters().at(name).detach().to(at::kCPU, stored, false, true);
  std::map<std::string, int64_t> versions;
  for (const auto& [name, t] : model.parameters()) versions[name] = static_cast<int64_t>(t._version());

  const auto t0 = Clock::now();
  editor.run(tm, job, man);
  man.phase_seconds["edit_total"] = seconds_since(t0);

  const auto t1 = Clock::now();
  for (const auto& [name, t] : model.parameters()) {
    if (static_cast<int64_t>(t._version()) == versions.at(name)) continue;
    TORCH_CHECK(before.count(name), "edit: ", job.method, " wrote tensor ", name, " that it did not plan to edit");
    const auto after = t.detach().to(at::kCPU, stored, false, true);
    const auto& b = before.at(name);
    if (at::equal(b, after)) continue;
    ChangedTensor c;
    c.name = name;
    c.stable_name = stable_of.at(name);
    c.shape = after.sizes().vec();
    c.dtype = std::string(harness::find_safetensors_dtype(stored)->name);
    c.delta = analyze_delta(b, after);
    c.sha256_after = tensor_sha256(after);
    man.tensors.push_back(std::move(c));
  }
  man.edited_weights_sha256 = harness::parameters_sha256(model, stored);
  man.phase_seconds["manifest"] = seconds_since(t1);
  return man;
}

}  // namespace editgate::editors
