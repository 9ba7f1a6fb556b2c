// `editgate edit` (ROME, MEMIT, AlphaEdit, FT-L, GRACE, MEND -> edited checkpoint +
// edit_manifest.json) and `editgate audit` (edited vs base, against the
// manifest). Parsing, defaults and printing only; editors/ does the work.

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "editors/audit.h"
#include "editors/edit_hparams.h"
#include "editors/edit_runner.h"
#include "editors/locate/causal_trace.h"
#include "editors/method_hparams.h"
#include "editors/request_formats.h"
#include "editors/second_moment.h"
#include "fixtures/fixture_corpus.h"
#include "harness/checkpoint.h"
#include "cli/commands.h"
#include "harness/json_file.h"
#include "harness/input_error.h"
#include "harness/text_model.h"
#include "harness/atomic_file.h"
#include "harness/output_guard.h"
#include "harness/packaged_models.h"
#include "reports/svg_figures.h"

namespace editgate::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct EditFlags {
  std::string model;
  std::string editor;
  std::string method;
  std::string requests;
  std::string hparams;
  std::vector<int64_t> layers;
  uint64_t seed = 0;
  std::string out;
  std::string corpus;
  std::string stats_cache;
  bool no_stats_cache = false;
  int64_t mom2_tokens = -1;
  bool sequential = false;
  int64_t batch_size = 0;
  std::string preservation;
  std::string device = "auto";
  std::string dtype = "auto";
  bool json = false;
  bool force = false;
};

// Prompts for the per-round preservation rate: --preservation (the fixture's
// {"facts": [{"prompt", ...}]}, objects optional, or a JSON list of prompts),
// else the fixture's requests/preservation.json, else the requests'
// neighbourhood prompts. Read by the gate's preservation loader.
std::vector<std::string> preservation_prompts(const EditFlags& f, const std::vector<editors::EditRequest>& requests) {
  fs::path file = f.preservation;
  if (file.empty() && fs::exists(fs::path(f.model) / "requests" / "preservation.json")) {
    file = fs::path(f.model) / "requests" / "preservation.json";
  }
  std::vector<std::string> out;
  if (file.empty()) {
    for (const auto& r : requests) out.insert(out.end(), r.neighborhood_prompts.begin(), r.neighborhood_prompts.end());
    return out;
  }
  for (auto& fact : editors::load_preservation(file, /*prompts_only=*/true)) out.push_back(std::move(fact.prompt));
  return out;
}

// The statistics corpus of a packaged model when --corpus is absent: SmolLM2's
// is 2,048 of its own sampled documents (docs/real-models.md measures why 64
// are too few). nullopt for any other model.
std::optional<fs::path> default_statistics_corpus(const fs::path& model) {
  const auto smollm2 = harness::find_packaged_model("smollm2");
  if (smollm2 && fs::exists(model) && fs::equivalent(model, *smollm2)) {
    return fs::path(EDITGATE_SMOLLM2_DIR) / "corpus_2k.txt";
  }
  return std::nullopt;
}

void print_edit(const editors::EditManifest& m, const std::string& out) {
  std::cout << fmt::format("{}: {} edit(s) with {} in {:.2f} s -> {}\n", m.base_dir, m.requests.size(), m.method,
                           m.phase_seconds.count("edit_total") ? m.phase_seconds.at("edit_total") : 0.0, out);
  for (const auto& r : m.per_request) {
    std::cout << fmt::format("  case {:>6}  steps {:>3}  loss {:8.4f}  target NLL {:8.4f}\n",
                             r["case_id"].get<std::string>(), r["steps"].get<int64_t>(), r["loss"].get<double>(),
                             r["target_nll"].get<double>());
  }
  for (const auto& t : m.tensors) {
    std::cout << fmt::format("  changed {}  |delta|_F {:.4g}  rank {}\n", t.name, t.delta.frobenius, t.delta.rank);
  }
  if (m.extra.contains("sequential")) {
    for (const auto& r : m.extra["sequential"]) {
      std::cout << fmt::format("  round {:>4}: {:>5} edits  efficacy so far {:.3f}  preservation {:.4f}\n",
                               r["round"].get<int64_t>(), r["edits"].get<int64_t>(), r["efficacy"].get<double>(),
                               r["preservation"].get<double>());
    }
  }
  if (!m.adapter.is_null()) {
    std::cout << fmt::format("  adapter {} at layer {}: {} entries ({} before), no base weight changed\n",
                             m.adapter["kind"].get<std::string>(), m.adapter.value("layer", int64_t{-1}),
                             m.adapter.value("entries", int64_t{0}), m.adapter.value("entries_before", int64_t{0}));
  }
  for (const auto& [phase, s] : m.phase_seconds) std::cout << fmt::format("  {:<18} {:8.3f} s\n", phase, s);
}

void run_edit_command(const EditFlags& f) {
  // MEND's weights and hyperparameters come from its trained editor.
  if (f.method == "mend" && f.editor.empty()) {
    throw InputError("", "--editor", "a trained MEND editor directory with --method mend", "none",
                     "train one with `editgate mend train --model DIR --requests FILE --out DIR`");
  }
  if (f.method != "mend" && !f.editor.empty()) throw InputError("", "--editor", "--method mend", "--method " + f.method);
  if (f.method == "mend" && !f.hparams.empty()) {
    throw InputError("", "--hparams", "no --hparams with --method mend (the editor's own are used)", f.hparams);
  }
  auto tm = harness::TextModel::load(f.model, harness::LoadOptions{f.device, f.dtype, true});
  editors::EditJob job;
  job.method = f.method;
  if (f.method == "mend") {
    job.editor_dir = f.editor;
    job.hparams_source = f.editor;
  } else {
    job.hparams = editors::resolve_method_hparams(f.method, f.model, tm.model().config(), f.hparams, job.hparams_source);
  }
  if (!f.layers.empty()) job.layers = f.layers;
  job.seed = f.seed;
  job.requests = editors::load_edit_requests(f.requests).edits;
  job.requests_source = f.requests;
  if (!f.corpus.empty()) {
    job.corpus = editors::TextCorpus::from_file(f.corpus);
  } else if (const auto packaged = default_statistics_corpus(f.model)) {
    job.corpus = editors::TextCorpus::from_file(*packaged);
  } else {
    job.corpus = fixtures::fixture_statistics_corpus(f.model, tm.model().config().max_positions - 1);
  }
  if (!f.no_stats_cache) job.stats_cache_dir = f.stats_cache.empty() ? editors::default_stats_cache_dir() : fs::path(f.stats_cache);
  if (f.mom2_tokens >= 0) job.mom2_max_tokens = f.mom2_tokens;
  if (f.sequential) {
    if (f.batch_size <= 0) throw InputError("", "--batch-size", "a positive batch size with --sequential", std::to_string(f.batch_size));
    job.batch_size = f.batch_size;
    job.preservation_prompts = preservation_prompts(f, job.requests);
  } else if (f.batch_size > 0) {
    throw InputError("", "--batch-size", "--sequential as well (rounds of edits)", "--batch-size alone");
  }
  auto manifest = editors::run_edit(tm, job);
  if (tm.loaded().source_format == "gguf") {
    // The edited weights are written as f32 safetensors: a delta added to
    // dequantised weights is no longer representable in the source's blocks.
    manifest.extra["base_format"] = {{"format", "gguf"}, {"file", f.model}, {"quantized", false},
                                     {"note", "base dequantised to f32; the edited checkpoint is f32 HF safetensors, not quantised"}};
  }
  const auto t0 = std::chrono::steady_clock::now();
  const auto bytes = editors::save_edited_checkpoint(tm, manifest, f.out);
  manifest.phase_seconds["save"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (f.json) {
    std::cout << bytes;
  } else {
    print_edit(manifest, f.out);
  }
}

int run_audit_command(const std::string& base, const std::string& edited, bool as_json) {
  const auto r = editors::audit_checkpoints(base, edited);
  if (as_json) {
    std::cout << harness::json_text(editors::to_json(r)) << "\n";
  } else {
    std::cout << fmt::format("audit {} against {}: {} tensors compared, {} changed, manifest {}\n", edited, base,
                             r.tensors_compared, r.changed.size(), r.manifest_found ? r.method : "missing");
    for (const auto& t : r.changed) {
      std::cout << fmt::format("  {}  |delta|_F {:.4g}  rank {} (tolerance {:.3g})  declared {}\n", t.name,
                               t.measured.frobenius, t.measured.rank, t.measured.tolerance,
                               t.declared ? "rank " + std::to_string(t.declared_rank) : std::string("NO"));
    }
    if (!r.adapter.is_null()) {
      std::cout << "  adapter (no base weight involved): " << r.adapter.dump() << "\n";
    }
    for (const auto& p : r.problems) std::cout << "  FAIL: " << p << "\n";
    std::cout << (r.pass() ? "verdict: pass\n" : "verdict: fail\n");
  }
  return r.pass() ? kExitOk : kExitGateFailed;
}

struct TraceFlags {
  std::string model, prompt, subject, answer, svg;
  int64_t samples = 10;
  int64_t window = 0;
  uint64_t seed = 1;
  double noise = 3.0;
  std::string device = "auto";
  bool json = false;
};

void run_trace_command(const TraceFlags& f) {
  auto tm = harness::TextModel::load(f.model, harness::LoadOptions{f.device, "auto", true});
  std::string prompt = f.prompt;
  if (prompt.find("{}") == std::string::npos) {
    const auto at = prompt.find(f.subject);
    if (f.subject.empty() || at == std::string::npos) {
      throw InputError("", "--subject", "a subject that occurs in --prompt (or a prompt with {})", "'" + f.subject + "'");
    }
    prompt.replace(at, f.subject.size(), "{}");
  }
  editors::TraceOptions o;
  o.samples = f.samples;
  o.window = f.window;
  o.seed = f.seed;
  o.noise_scale = f.noise;
  const auto r = editors::causal_trace(tm, prompt, f.subject,
                                       f.answer.empty() ? std::nullopt : std::optional<std::string>(f.answer), o);
  if (!f.svg.empty()) write_file_atomic(f.svg, trace_svg(r, f.prompt));
  if (f.json) {
    std::cout << harness::json_text(editors::to_json(r)) << "\n";
    return;
  }
  std::cout << fmt::format("answer {:?}: clean P {:.4f}, corrupted P {:.4f} (noise std {:.4f}, {} samples)\n", r.answer,
                           r.clean_prob, r.corrupted_prob, r.noise_std, o.samples);
  for (const auto& [stream, scores] : {std::pair{"resid", &r.resid}, {"mlp", &r.mlp}, {"attn", &r.attn}}) {
    std::cout << stream << " (P(answer) after restoring one token" << (std::string(stream) == "resid" ? std::string() : ", window " + std::to_string(r.window))
              << "):\n" << fmt::format("  {:<18}", "token \\ layer");
    for (int64_t l = 0; l < scores->size(1); ++l) std::cout << fmt::format(" {:>6}", l);
    std::cout << "\n";
    for (int64_t t = 0; t < scores->size(0); ++t) {
      const bool subj = t >= r.subject_begin && t < r.subject_end;
      std::cout << fmt::format("  {:<18}", (subj ? "*" : " ") + r.tokens[static_cast<size_t>(t)]);
      for (int64_t l = 0; l < scores->size(1); ++l) std::cout << fmt::format(" {:6.3f}", (*scores)[t][l].item<double>());
      std::cout << "\n";
    }
  }
  std::cout << "largest MLP effect at the subject's last token: layer " << r.best_mlp_layer_at_subject() << "\n";
}

}  // namespace

std::string trace_svg(const editors::TraceResult& r, const std::string& title) {
  std::vector<reports::CausalTraceFigure> figures;
  for (const auto& [stream, scores] : {std::pair{"resid", &r.resid}, {"mlp", &r.mlp}, {"attn", &r.attn}}) {
    reports::CausalTraceFigure f;
    f.title = title + " (" + stream + ")";
    f.tokens = r.tokens;
    f.layers = scores->size(1);
    const auto c = scores->contiguous();
    for (int64_t t = 0; t < c.size(0); ++t) f.scores.emplace_back(c[t].data_ptr<double>(), c[t].data_ptr<double>() + c.size(1));
    f.stream = stream;
    f.subject = std::pair{r.subject_begin, r.subject_end};
    f.clean_score = r.clean_prob;
    f.corrupted_score = r.corrupted_prob;
    figures.push_back(std::move(f));
  }
  return reports::causal_trace_stack_svg(figures);
}

void edit_checkpoint(const std::string& model, const std::string& method, const std::string& requests,
                     const std::string& out, uint64_t seed, const std::string& corpus) {
  EditFlags f;
  f.corpus = corpus;
  f.model = model;
  f.method = method;
  f.requests = requests;
  f.out = out;
  f.seed = seed;
  run_edit_command(f);
}

void register_edit_commands(CLI::App& app, int& exit_code) {
  auto* edit = app.add_subcommand("edit", "Apply ROME, MEMIT, AlphaEdit, FT-L, GRACE or a trained MEND editor; write the edited checkpoint and edit_manifest.json");
  auto f = std::make_shared<EditFlags>();
  edit->add_option("--model", f->model, "base checkpoint directory, .gguf file, smollm2 or gemma3")->required()->transform(model_path_validator());
  std::string method_help = "the editing method:";
  std::vector<std::string> methods;
  for (const auto& e : editors::edit_methods()) {
    method_help += "\n  " + e.name + ": " + e.summary;
    methods.push_back(e.name);
  }
  edit->add_option("--method", f->method, method_help)->required()->check(CLI::IsMember(methods));
  edit->add_option("--editor", f->editor, "the trained MEND editor directory (editgate mend train) for --method mend");
  edit->add_option("--requests", f->requests, "edit requests (CounterFact, zsRE, MQuAKE, RippleEdits or EasyEdit JSON)")->required()->check(CLI::ExistingFile);
  edit->add_option("--hparams", f->hparams,
                   "hyperparameter JSON (default: the embedded editors/hparams/{method}/{model}.json)")
      ->check(CLI::ExistingFile);
  edit->add_option("--layers", f->layers, "override the hyperparameters' layers");
  edit->add_option("--seed", f->seed, "seed of the context-template sampler (recorded in the manifest)");
  edit->add_option("--out", f->out, "output checkpoint directory (written atomically)")->required();
  edit->add_option("--corpus", f->corpus,
                   "text (.txt: a document per line) or .jsonl ({\"text\"}) corpus for C = E[kk^T] "
                   "(default: a fixture's statistics corpus, its packed training text or fact sentences; "
                   "2,048 of the model's own "
                   "sampled documents for smollm2)")
      ->check(CLI::ExistingFile);
  edit->add_option("--stats-cache", f->stats_cache, "statistics cache directory (default: $EDITGATE_STATS_CACHE or ~/.cache/editgate/stats)");
  edit->add_flag("--no-stats-cache", f->no_stats_cache, "recompute statistics and do not store them");
  edit->add_option("--mom2-tokens", f->mom2_tokens, "token budget for the statistics (0: whole corpus)");
  edit->add_flag("--sequential", f->sequential,
                 "apply the edits in rounds of --batch-size, measuring efficacy so far and preservation after each");
  edit->add_option("--batch-size", f->batch_size, "edits per round with --sequential");
  edit->add_option("--preservation", f->preservation,
                   "facts for the per-round preservation rate (default: the fixture's requests/preservation.json, "
                   "else the requests' neighbourhood prompts)")
      ->check(CLI::ExistingFile);
  edit->add_option("--device", f->device, "cpu, cuda, cuda:N or auto");
  edit->add_option("--dtype", f->dtype, "compute dtype: auto, f32, f16, bf16");
  edit->add_flag("--json", f->json, "print the manifest on stdout");
  add_force_flag(edit, f->force);
  edit->callback([f, &exit_code] {
    harness::check_output({f->out, "--out", harness::kCheckpointOutput, f->force},
                          {f->model, f->requests, f->hparams, f->corpus, f->preservation, f->editor, f->stats_cache});
    run_edit_command(*f);
    exit_code = kExitOk;
  });

  auto* audit = app.add_subcommand(
      "audit", "Compare an edited checkpoint with its base tensor by tensor and check edit_manifest.json's claims "
               "(exit 1 when a change is undeclared or a declared rank is exceeded)");
  auto base = std::make_shared<std::string>();
  auto edited = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  audit->add_option("--base", *base, "base checkpoint directory")->required()->check(CLI::ExistingDirectory);
  audit->add_option("--edited", *edited, "edited checkpoint directory")->required()->check(CLI::ExistingDirectory);
  audit->add_flag("--json", *as_json, "print the audit as JSON");
  audit->callback([base, edited, as_json, &exit_code] { exit_code = run_audit_command(*base, *edited, *as_json); });

  auto* trace = app.add_subcommand("trace", "Causal tracing: corrupt the subject, restore one state at a time, "
                                            "print (and draw) where P(answer) comes back");
  auto t = std::make_shared<TraceFlags>();
  trace->add_option("--model", t->model, "checkpoint directory, .gguf file, smollm2 or gemma3")->required()->transform(model_path_validator());
  trace->add_option("--prompt", t->prompt, "prompt, with the subject in it (or {} where it goes)")->required();
  trace->add_option("--subject", t->subject, "the subject to corrupt")->required();
  trace->add_option("--answer", t->answer, "object whose probability is traced (default: the clean top-1)");
  trace->add_option("--samples", t->samples, "corrupted runs averaged")->check(CLI::PositiveNumber);
  trace->add_option("--window", t->window, "layers restored together for mlp and attn (default: min(10, n_layers/4))")
      ->check(CLI::NonNegativeNumber);
  trace->add_option("--noise", t->noise, "noise std in units of the token embeddings' std as layer 0 sees them (times sqrt(d_model) on Gemma)")->check(CLI::PositiveNumber);
  trace->add_option("--seed", t->seed, "noise seed");
  trace->add_option("--svg", t->svg, "write the resid/mlp/attn heatmaps to this SVG file");
  trace->add_option("--device", t->device, "cpu, cuda, cuda:N or auto");
  trace->add_flag("--json", t->json, "print the tables as JSON");
  trace->callback([t, &exit_code] {
    run_trace_command(*t);
    exit_code = kExitOk;
  });
}

}  // namespace editgate::cli
