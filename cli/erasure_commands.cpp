// `editgate erase | probe | erase-model`: concept erasure on tensors in a file
// and on a model's activations. Flags and printing only; the work is in
// editors/erasure_files.h and editors/erase_model.h.

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>

#include "editors/concept_dataset.h"
#include "editors/erase_model.h"
#include "editors/erasure_files.h"
#include "editors/request_formats.h"
#include "editors/scrub.h"
#include "editors/text_corpus.h"
#include "cli/commands.h"
#include "harness/json_file.h"
#include "harness/hook_names.h"
#include "harness/input_error.h"
#include "harness/output_guard.h"
#include "harness/text_model.h"

namespace editgate::cli {
namespace {

using nlohmann::json;

std::string ci(const json& probe) {
  return fmt::format("[{:.4f}, {:.4f}]", probe["accuracy_ci95"][0].get<double>(),
                     probe["accuracy_ci95"][1].get<double>());
}

// "n=960" for independent rows; "n=960 of 80 subjects" when the interval clusters
// by subject; ", 5-fold CV" when every row was held out once.
std::string sample_size(const json& p) {
  const auto groups = p.value("n_groups", int64_t{0});
  const auto folds = p.value("folds", int64_t{0});
  return fmt::format("n={}", p["n_test"].get<int64_t>()) +
         (groups > 0 ? fmt::format(" of {} subjects", groups) : std::string()) +
         (folds > 0 ? fmt::format(", {}-fold CV", folds) : std::string());
}

void print_probe(const std::string& label, const json& p) {
  std::cout << fmt::format(
      "{:<18} accuracy {:.4f} {} {}  chance (majority) {:.4f}  balanced {:.4f} (chance {:.4f})  "
      "log-loss {:.4f} (prior {:.4f})\n",
      label, p["accuracy"].get<double>(), ci(p), sample_size(p), p["chance_accuracy"].get<double>(),
      p["balanced_accuracy"].get<double>(), p["chance_balanced_accuracy"].get<double>(), p["log_loss"].get<double>(),
      p["prior_log_loss"].get<double>());
}

void print_warnings(const json& report) {
  if (!report.contains("warnings")) return;
  for (const auto& w : report["warnings"]) std::cerr << "editgate: warning: " << w.get<std::string>() << "\n";
}

struct EraseFlags {
  std::string in, out;
  editors::EraseFileOptions options;
  bool no_shrinkage = false, no_affine = false, json = false, force = false;
};

void run_erase(EraseFlags f) {
  f.options.leace.shrinkage = !f.no_shrinkage;
  f.options.leace.affine = !f.no_affine;
  const json r = editors::erase_file(f.in, f.out, f.options);
  print_warnings(r);
  if (f.json) {
    std::cout << harness::json_text(r) << "\n";
    return;
  }
  std::cout << fmt::format("{}: {} on n={} d={} k={} (fitted on {} rows, {})\n", f.out, f.options.method,
                           r["n"].get<int64_t>(), r["dim"].get<int64_t>(), r["num_classes"].get<int64_t>(),
                           r["n_fit"].get<int64_t>(), r["fitted_on"].get<std::string>());
  if (r.contains("fit")) {
    const json& fit = r["fit"];
    std::cout << fmt::format("rank {} (k-1 = {}), singular values {}, dropped {} (threshold {:.3g})\n",
                             fit["rank"].get<int64_t>(), fit["expected_rank"].get<int64_t>(),
                             fit["singular_values"].dump(), fit["dropped_singular_values"].dump(),
                             fit["threshold"].get<double>());
  }
  std::cout << fmt::format("max |Cov(X, Z)| {:.3g} -> {:.3g}; mean squared change {:.6g}\n",
                           r["max_abs_cov_xz_before"].get<double>(), r["max_abs_cov_xz_after"].get<double>(),
                           r["mean_squared_change"].get<double>());
}

struct ProbeFlags {
  std::string in;
  editors::ProbeFileOptions options;
  bool no_quadratic = false, json = false;
};

void run_probe(ProbeFlags f) {
  f.options.quadratic = !f.no_quadratic;
  const json r = editors::probe_file(f.in, f.options);
  print_warnings(r);
  if (f.json) {
    std::cout << harness::json_text(r) << "\n";
    return;
  }
  std::cout << fmt::format("{} '{}' (labels '{}'): n={} d={} k={}, test fraction {}, seed {}{}\n", f.in,
                           f.options.tensor, f.options.labels, r["n"].get<int64_t>(), r["dim"].get<int64_t>(),
                           r["num_classes"].get<int64_t>(), f.options.test_fraction, f.options.seed,
                           r["excluded_fit_rows"].get<int64_t>() > 0
                               ? fmt::format(" ({} eraser-fit rows excluded)", r["excluded_fit_rows"].get<int64_t>())
                               : "");
  print_probe("logistic probe", r["logistic"]);
  if (r.contains("quadratic")) print_probe("quadratic (QDA)", r["quadratic"]);
}

struct EraseModelFlags {
  std::string model, dataset, hook, out, device = "auto", dtype = "auto";
  std::string method = "leace";
  std::string behaviour, facts, text;
  bool no_shrinkage = false, all_positions = false, json = false, force = false, scrub = false, no_quadratic = false;
  int64_t batch_size = 32;
  int64_t resplits = -1;  // -1: not given (10)
  int64_t text_tokens = 128;
};

void print_behaviour(const std::string& label, const json& b) {
  std::cout << label << " (" << b["relation"].get<std::string>() << ", "
            << b.value("difference", std::string("mean log P per class")) << "):";
  for (const auto& c : b["per_class"]) {
    if (c.contains("mean_logprob_diff")) {
      std::cout << fmt::format("  {} {:+.3f} [{:+.3f}, {:+.3f}] n={}", c["class"].get<std::string>(),
                               c["mean_logprob_diff"].get<double>(), c["mean_logprob_diff_ci95"][0].get<double>(),
                               c["mean_logprob_diff_ci95"][1].get<double>(), c["n"].get<int64_t>());
    } else {
      std::cout << "  " << c["class"].get<std::string>() << " " << c["mean_logprob"].dump();
    }
  }
  std::cout << "\n";
}

void run_scrub(const EraseModelFlags& f, harness::TextModel& tm, const editors::ConceptDataset& dataset) {
  editors::ScrubOptions options;
  options.leace.method = editors::parse_erasure_method(f.method, "--method");
  options.leace.shrinkage = !f.no_shrinkage;
  options.batch_size = f.batch_size;
  options.behaviour_relation = f.behaviour;
  if (!f.facts.empty()) {
    for (const auto& fact : editors::load_preservation(f.facts)) {
      editors::ConceptRecord r;
      r.prompt = fact.prompt, r.object = fact.object, r.relation = fact.relation;
      options.extra_facts.push_back(std::move(r));
    }
  }
  std::optional<editors::TextCorpus> text;
  if (!f.text.empty()) text = editors::TextCorpus::from_file(f.text);
  options.text = text ? &*text : nullptr;
  options.text_max_tokens = f.text_tokens;
  const auto result = editors::scrub_model(tm, dataset, options);
  editors::write_scrub_outputs(f.out, result,
                               {{"model", f.model},
                                {"model_sha256", tm.loaded().weights_sha256},
                                {"dataset", f.dataset},
                                {"concept", dataset.concept_name}});
  const json r = result.to_json();
  for (const auto& l : result.layers) {
    for (const auto& w : l.fit.warnings) std::cerr << "editgate: warning: " << l.hook << ": " << w << "\n";
  }
  if (f.json) {
    std::cout << harness::json_text(r) << "\n";
    return;
  }
  std::cout << fmt::format("{}: scrubbed {} layers (resid_pre, all positions), fitted on {} token rows\n", f.out,
                           result.layers.size(), result.fit_rows);
  for (const auto& l : r["layers"]) {
    std::cout << fmt::format("{:<26} probe {:.4f} -> {:.4f} {} chance {:.4f}  class-mean gap {:.3g} -> {:.3g}\n",
                             l["hook"].get<std::string>(), l["linear_before"]["accuracy"].get<double>(),
                             l["linear_after"]["accuracy"].get<double>(), ci(l["linear_after"]),
                             l["linear_after"]["chance_accuracy"].get<double>(),
                             l["class_mean_gap_before"].get<double>(), l["class_mean_gap_after"].get<double>());
  }
  std::cout << fmt::format("fact recall {:.4f} -> {:.4f} (n={})\n", result.recall_base.rate(),
                           result.recall_erased.rate(), result.recall_base.n);
  if (result.extra_facts_base) {
    std::cout << fmt::format("--facts recall {:.4f} -> {:.4f} (n={})\n", result.extra_facts_base->rate(),
                             result.extra_facts_erased->rate(), result.extra_facts_base->n);
  }
  if (result.behaviour_base) {
    print_behaviour("behaviour before", r["behaviour_base"]);
    print_behaviour("behaviour after", r["behaviour_erased"]);
  }
  if (result.text_base) {
    std::cout << fmt::format("--text NLL {:.4f} -> {:.4f} nats/token (perplexity {:.2f} -> {:.2f}, {} tokens)\n",
                             result.text_base->mean_nll, result.text_erased->mean_nll, result.text_base->perplexity(),
                             result.text_erased->perplexity(), result.text_base->tokens);
  }
}

void run_erase_model(const EraseModelFlags& f) {
  auto tm = harness::TextModel::load(f.model, harness::LoadOptions{f.device, f.dtype, true});
  const auto dataset = editors::ConceptDataset::load(f.dataset);
  if (f.scrub) {
    run_scrub(f, tm, dataset);
    return;
  }
  const auto point = harness::parse_hook_name(f.hook, tm.model().config().n_layers, "--hook");
  editors::EraseModelOptions options;
  options.leace.method = editors::parse_erasure_method(f.method, "--method");
  options.leace.shrinkage = !f.no_shrinkage;
  options.all_positions = f.all_positions;
  options.batch_size = f.batch_size;
  options.resplits = f.resplits < 0 ? 10 : f.resplits;
  options.behaviour_relation = f.behaviour;
  options.quadratic_probe = !f.no_quadratic;
  const auto result = editors::erase_model(tm, dataset, point, options);
  editors::write_erase_model_outputs(f.out, result,
                                     {{"model", f.model},
                                      {"model_sha256", tm.loaded().weights_sha256},
                                      {"dataset", f.dataset},
                                      {"concept", dataset.concept_name}});
  const json r = result.to_json();
  for (const auto& w : result.fit.warnings) std::cerr << "editgate: warning: " << w << "\n";
  if (f.json) {
    std::cout << harness::json_text(r) << "\n";
    return;
  }
  std::cout << fmt::format("{}: eraser at {} ({} positions), rank {} (k-1 = {})\n", f.out, result.hook,
                           result.positions, result.fit.rank, result.fit.expected_rank);
  print_probe("probe before", r["linear_before"]);
  print_probe("probe after", r["linear_after"]);
  if (r.contains("quadratic_after")) print_probe("QDA after", r["quadratic_after"]);
  if (result.resplits) std::cout << result.resplits->summary() << "\n";
  std::cout << fmt::format("fact recall {:.4f} -> {:.4f} (n={}, drop {:.4f})\n", result.recall_base.rate(),
                           result.recall_erased.rate(), result.recall_base.n,
                           result.recall_base.rate() - result.recall_erased.rate());
  if (result.behaviour_base) {
    print_behaviour("behaviour before", r["behaviour_base"]);
    print_behaviour("behaviour after", r["behaviour_erased"]);
  }
}

}  // namespace

void register_erasure_commands(CLI::App& app, int& exit_code) {
  {
    auto* cmd = app.add_subcommand(
        "erase", "LEACE (or orth, oracle) on tensors X [n,d] and Z [n] int64; writes X_erased and the eraser");
    auto f = std::make_shared<EraseFlags>();
    cmd->add_option("--in", f->in, "input .safetensors with X (F32/F64) and Z (I64)")->required();
    cmd->add_option("--out", f->out, "output .safetensors (written atomically)")->required();
    cmd->add_option("--method", f->options.method, "leace (default), orth or oracle (needs Z at inference)")
        ->check(CLI::IsMember({"leace", "orth", "oracle"}));
    cmd->add_flag("--no-shrinkage", f->no_shrinkage, "plain covariance instead of linear shrinkage of Σ_XX");
    cmd->add_flag("--no-affine", f->no_affine, "no mean term (bias = 0): the mean of X may change");
    cmd->add_option("--batch-size", f->options.batch_size, "rows per chunk: the fit, the erasure and the output stream in chunks (0: about 4 MiB of float64 rows)");
    cmd->add_option("--svd-rtol", f->options.leace.svd_rtol,
                    "drop singular values of W·Σ_XZ below this fraction of their scale (default 1e-6)");
    cmd->add_option("--svd-atol", f->options.leace.svd_atol,
                    "also drop singular values below this absolute value (concept-erasure's svd_tol; default 0)");
    cmd->add_option("--holdout", f->options.holdout,
                    "share of rows (stratified) kept out of the fit and marked in fit_mask, so `probe --tensor "
                    "X_erased` scores only unseen rows (default 0: fit on all)");
    cmd->add_option("--seed", f->options.seed, "seed of the holdout choice");
    cmd->add_option("--device", f->options.device, "cpu (default), cuda, cuda:N or auto");
    cmd->add_flag("--json", f->json, "print the fit report as JSON on stdout");
    add_force_flag(cmd, f->force);
    cmd->callback([f, &exit_code] {
      harness::check_output({f->out, "--out", harness::kErasedTensorsOutput, f->force}, {f->in});
      run_erase(*f);
      exit_code = kExitOk;
    });
  }
  {
    auto* cmd = app.add_subcommand("probe", "Held-out linear (and QDA) probe accuracy against chance");
    auto f = std::make_shared<ProbeFlags>();
    cmd->add_option("--in", f->in, "input .safetensors")->required();
    cmd->add_option("--tensor", f->options.tensor, "feature tensor [n,d] (default X; X_erased on an erase output)");
    cmd->add_option("--labels", f->options.labels, "int64 label tensor [n] (default Z)");
    cmd->add_option("--groups", f->options.groups,
                    "int64 tensor [n] of subject ids: hold out whole subjects and count them, not rows, in the "
                    "interval (rows of one subject are not independent samples)");
    cmd->add_option("--test-fraction", f->options.test_fraction, "share of each class held out for scoring, in subjects with --groups (0.3)");
    cmd->add_option("--seed", f->options.seed, "seed of the stratified split");
    cmd->add_flag("--no-quadratic", f->no_quadratic, "skip the QDA probe");
    cmd->add_flag("--json", f->json, "print the report as JSON on stdout");
    cmd->callback([f, &exit_code] { run_probe(*f); exit_code = kExitOk; });
  }
  {
    auto* cmd = app.add_subcommand(
        "erase-model", "Fit LEACE on a model's activations over a concept dataset; probe and recall before/after");
    auto f = std::make_shared<EraseModelFlags>();
    cmd->add_option("--model", f->model, "Hugging Face checkpoint directory, .gguf file, smollm2 or gemma3")->required()->transform(model_path_validator());
    cmd->add_option("--dataset", f->dataset, "concept dataset JSON (format in editors/concept_dataset.h)")->required();
    cmd->add_option("--hook", f->hook, "hook point, e.g. blocks.1.hook_resid_post (required without --scrub)");
    cmd->add_flag("--scrub", f->scrub,
                  "concept scrubbing: LEACE at every layer's blocks.N.hook_resid_pre at all positions, each fitted "
                  "with the earlier layers' erasers installed; probes every layer (no --hook)");
    cmd->add_option("--behaviour", f->behaviour,
                    "relation of the probe records to score ' ' + each class name after, before and after erasure "
                    "(e.g. is_a for 'NAME is a')");
    cmd->add_flag("--no-quadratic", f->no_quadratic, "skip the QDA probe (slow in wide activations)");
    cmd->add_option("--facts", f->facts, "with --scrub: preservation facts JSON whose recall is measured too");
    cmd->add_option("--text", f->text, "with --scrub: text corpus (one document per line) whose NLL is measured too");
    cmd->add_option("--text-tokens", f->text_tokens, "tokens scored per --text document (128)")->check(CLI::Range(1, 100000));
    cmd->add_option("--out", f->out, "output directory: eraser.safetensors, report.json (atomic)")->required();
    cmd->add_option("--method", f->method, "leace (default) or orth")->check(CLI::IsMember({"leace", "orth"}));
    cmd->add_flag("--no-shrinkage", f->no_shrinkage, "plain covariance instead of linear shrinkage of Σ_XX");
    cmd->add_flag("--all-positions", f->all_positions,
                  "install the eraser at every position (default: only at each record's own position)");
    cmd->add_option("--batch-size", f->batch_size, "prompts per forward pass")->check(CLI::Range(1, 4096));
    cmd->add_option("--resplits", f->resplits,
                    "also refit and reprobe on N fresh subject-disjoint splits of the same activations and report "
                    "the spread of the after-erasure accuracy (default 10; 0: none)")
        ->check(CLI::Range(0, 1000));
    cmd->add_option("--device", f->device, "cpu, cuda, cuda:N or auto");
    cmd->add_option("--dtype", f->dtype, "auto, f32, f16 or bf16");
    cmd->add_flag("--json", f->json, "print the report as JSON on stdout");
    add_force_flag(cmd, f->force);
    cmd->callback([f, &exit_code] {
      if (!f->scrub && f->hook.empty()) {
        throw InputError("", "--hook", "a hook point (or --scrub)", "none given");
      }
      if (f->scrub && !f->hook.empty()) {
        throw InputError("", "--hook", "no --hook with --scrub (it erases every layer)", f->hook);
      }
      if (!f->scrub && (!f->facts.empty() || !f->text.empty())) {
        throw InputError("", !f->facts.empty() ? "--facts" : "--text", "--scrub beside it",
                                  "an eraser at one site's record positions has no position in other text");
      }
      if (f->scrub && (f->all_positions || f->resplits >= 0)) {
        throw InputError("", f->all_positions ? "--all-positions" : "--resplits",
                                  "neither flag with --scrub (it always acts at every position and does not resplit)",
                                  "given");
      }
      harness::check_output({f->out, "--out", harness::kEraserOutput, f->force}, {f->model, f->dataset});
      run_erase_model(*f);
      exit_code = kExitOk;
    });
  }
}

}  // namespace editgate::cli
