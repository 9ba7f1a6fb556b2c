#include "suites/suite_runner.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <c10/core/DeviceType.h>
#include <torch/version.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>

#include "editors/edit_manifest.h"
#include "harness/file_io.h"
#include "harness/gpu_timing.h"
#include "harness/input_error.h"
#include "harness/progress.h"
#include "harness/sha256.h"
#include "harness/tokenizer_diff.h"
#include "suites/suites.h"

namespace editgate::suites {
namespace fs = std::filesystem;
namespace {

fs::path beside(const fs::path& explicit_path, const fs::path& requests, const char* name) {
  if (!explicit_path.empty()) return explicit_path;
  const auto candidate = requests.parent_path() / name;
  return fs::exists(candidate) ? candidate : fs::path();
}

// report.json's metadata.rerun: every input with its hash, the options, and
// the edit's own reproduction record (method, hparams, seed, context prefixes).
std::string rerun_record(const RunConfig& config, const CaseSet& cases, const std::vector<std::string>& suites) {
  using nlohmann::ordered_json;
  ordered_json inputs = ordered_json::object();
  const auto add = [&](const char* role, const fs::path& p) {
    if (!p.empty()) inputs[role] = {{"path", p.string()}, {"sha256", harness::file_sha256(p)}};
  };
  add("requests", config.requests);
  add("preservation", cases.preservation_path);
  add("cot", beside(config.cot, config.requests, "cot.json"));
  add("spec", config.spec);
  add("eraser", config.eraser);
  add("concept_dataset", config.concept_dataset);
  add("edit_manifest", fs::exists(config.edited_dir / "edit_manifest.json") ? config.edited_dir / "edit_manifest.json"
                                                                             : fs::path());
  const auto& o = config.options;
  ordered_json j = {{"libtorch_version", TORCH_VERSION},
                    {"inputs", std::move(inputs)},
                    {"suites", suites},
                    {"suite_options",
                     {{"seed", o.seed},
                      {"fluency_max_new_tokens", o.fluency_max_new_tokens},
                      {"max_generation_prompts", o.max_generation_prompts},
                      {"max_cot_items", o.max_cot_items},
                      {"ripple_max_new_tokens", o.ripple_max_new_tokens}}}};
  // The manifest is the editor's claim, recorded as found; audit checks it.
  if (const auto manifest = config.edited_dir / "edit_manifest.json"; fs::exists(manifest)) {
    // Checked by the manifest's own reader first, so a broken manifest is an
    // error here as in audit, not a silent gap; then recorded as written.
    const std::string text = harness::read_file(manifest, "a readable edit_manifest.json");
    editors::parse_manifest(harness::parse_json_strict(text, manifest.string()), manifest.string());
    const auto m = harness::parse_ordered_json_strict(text, manifest.string());
    ordered_json edit = ordered_json::object();
    for (const char* key : {"method", "hparams", "hparams_source", "seed", "context_templates", "warnings", "editgate_version"}) {
      if (m.contains(key)) edit[key] = m[key];
    }
    j["edit"] = std::move(edit);
  }
  return j.dump();
}

bool selected(const RunConfig& config, const std::string& suite) {
  return config.suites.empty() || std::find(config.suites.begin(), config.suites.end(), suite) != config.suites.end();
}

// A gate on unrelated-fact preservation needs the facts; without them the
// suite cannot measure it, and the run would end after every suite with an
// error about the spec. Said before any model is loaded, naming the fix.
void require_gated_inputs(const harness::GateSpec& spec, const RunConfig& config, const CaseSet& cases) {
  if (cases.edits.empty() || !cases.preservation.empty() || !selected(config, "FactPreservation")) return;
  for (const auto& rule : spec.rules) {
    if (rule.suite == "FactPreservation" && rule.metric.starts_with("unrelated")) {
      throw InputError(config.requests.string(), "--preservation",
                       "unrelated facts for the gate FactPreservation." + rule.metric,
                       "no --preservation and no preservation.json beside the requests",
                       "pass --preservation FILE, or a --spec without that gate");
    }
  }
}

std::string comma_list(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

const SuiteEntry* find_suite(const std::string& name) {
  for (const auto& s : all_suites()) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

// A rule on a suite that does not exist would never be evaluated, so a typo
// would silently turn a gate off; a misspelt metric is caught here too, before
// the models load and the suites run (evaluate_gates checks again, after).
void require_known_suites_and_metrics(const harness::GateSpec& spec, const std::string& spec_name) {
  for (size_t i = 0; i < spec.rules.size(); ++i) {
    const auto& rule = spec.rules[i];
    const auto field = "gates[" + std::to_string(i) + "]";
    const SuiteEntry* entry = find_suite(rule.suite);
    if (entry == nullptr) {
      throw InputError(spec_name, field + ".suite", "one of " + comma_list(suite_names()), "'" + rule.suite + "'");
    }
    const auto declares = [&](const std::string& m) {
      return std::find(entry->metrics.begin(), entry->metrics.end(), m) != entry->metrics.end();
    };
    if (!declares(rule.metric)) {
      throw InputError(spec_name, field + ".metric", "a metric of " + rule.suite + ": " + comma_list(entry->metrics),
                       "'" + rule.metric + "'");
    }
    if (rule.bound_kind == "max_drop_vs_base" && !declares(rule.metric + "_base")) {
      throw InputError(spec_name, field + ".max_drop_vs_base",
                       "a metric with a base value (" + rule.metric + "_base) in " + rule.suite,
                       "none; use min or max for " + rule.metric);
    }
  }
}

}  // namespace

std::vector<std::string> suite_names() {
  std::vector<std::string> names;
  for (const auto& s : all_suites()) names.push_back(s.name);
  return names;
}

CaseSet load_run_cases(const RunConfig& config) {
  if (config.requests.empty()) return CaseSet{};  // an erasure-only run
  CaseSet cases = load_requests(config.requests);
  if (const auto p = beside(config.preservation, config.requests, "preservation.json"); !p.empty()) {
    cases.preservation = load_preservation(p);
    cases.preservation_path = p;
  }
  if (const auto p = beside(config.cot, config.requests, "cot.json"); !p.empty()) load_cot(p, cases);
  return cases;
}

harness::RunReport run_gate(const RunConfig& config) {
  using clock = std::chrono::steady_clock;
  // Validate everything cheap before loading models.
  for (const auto& name : config.suites) {
    if (find_suite(name) == nullptr) {
      throw InputError("", "--suites", "suite names from: " + comma_list(suite_names()), "'" + name + "'");
    }
  }
  const harness::GateSpec spec = config.spec.empty() ? harness::GateSpec::defaults() : harness::GateSpec::load(config.spec);
  const std::string spec_name = config.spec.empty() ? "<default gate spec>" : config.spec.string();
  require_known_suites_and_metrics(spec, spec_name);
  const CaseSet cases = load_run_cases(config);
  require_gated_inputs(spec, config, cases);

  harness::RunReport report;
  auto& meta = report.meta;
  const auto t_load = clock::now();
  const harness::LoadOptions load{config.device, "auto", true};
  auto base = harness::TextModel::load(config.base_dir, load);
  auto edited = harness::TextModel::load(config.edited_dir, load);
  meta.phase_seconds["load"] = std::chrono::duration<double>(clock::now() - t_load).count();
  meta.editgate_version = "0.1.0";
  meta.base_dir = config.base_dir.string();
  meta.edited_dir = config.edited_dir.string();
  meta.base_sha256 = base.loaded().weights_sha256;
  meta.edited_sha256 = edited.loaded().weights_sha256;
  meta.requests_path = config.requests.string();
  if (!config.requests.empty()) meta.requests_sha256 = harness::file_sha256(config.requests);
  meta.eraser_path = config.eraser.string();
  meta.device = base.model().device().str();
  meta.seed = config.options.seed;
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  meta.hostname = host[0] != '\0' ? host : "localhost";
  meta.timestamp = harness::utc_timestamp_now();

  SuiteContext ctx{base, edited, cases, config.options, config.eraser, config.concept_dataset};
  ctx.base_dir = config.base_dir;
  ctx.edited_dir = config.edited_dir;
  std::optional<BaseResultsCache> base_cache;
  if (!config.base_cache_dir.empty() && !meta.base_sha256.empty()) {
    // What moves the base's numbers besides the question: its weights, the device type, libtorch.
    base_cache.emplace(config.base_cache_dir,
                       nlohmann::ordered_json{{"base_weights_sha256", meta.base_sha256},
                                              {"device_type", c10::DeviceTypeName(base.model().device().type())},
                                              {"libtorch_version", TORCH_VERSION}});
    ctx.base_cache = &*base_cache;
  }
  const auto t_suites = clock::now();
  // Tokenizers that differ make every behavioural comparison measure the
  // tokenizer (the same prompt becomes other ids): only Audit runs, whether or
  // not it was selected, and its audit_problems gate holds even in a spec
  // without one, so the run fails naming the difference (tokenizer_diff.h).
  const bool tokenizers_differ = !harness::tokenizer_differences(base.tokenizer(), edited.tokenizer()).empty();
  harness::GateSpec gates = spec;
  if (tokenizers_differ && std::none_of(gates.rules.begin(), gates.rules.end(), [](const harness::GateRule& r) {
        return r.suite == "Audit" && r.metric == "audit_problems" && !r.report_only;
      })) {
    harness::GateRule rule;
    rule.suite = "Audit";
    rule.metric = "audit_problems";
    rule.bound_kind = "max";
    rule.bound = 0;
    gates.rules.push_back(rule);
  }
  std::vector<const SuiteEntry*> selected;
  for (const auto& s : all_suites()) {
    if (config.suites.empty() || std::find(config.suites.begin(), config.suites.end(), s.name) != config.suites.end() ||
        (tokenizers_differ && s.name == "Audit")) {
      selected.push_back(&s);
    }
  }
  std::vector<std::string> selected_names;
  for (const auto* s : selected) selected_names.push_back(s->name);
  meta.rerun_json = rerun_record(config, cases, selected_names);
  harness::ProgressBar bar("gate: suites", static_cast<int64_t>(selected.size()), "suites");
  for (size_t i = 0; i < selected.size(); ++i) {
    if (config.show_progress) bar.update(static_cast<int64_t>(i), selected[i]->name);
    auto result = [&] {
      if (tokenizers_differ && selected[i]->name != "Audit") {
        harness::SuiteResult skipped;
        skipped.name = selected[i]->name;
        skipped.skipped = true;
        skipped.skip_reason = "the base and edited tokenizers differ (see Audit): the same prompts give different ids";
        return skipped;
      }
      const harness::NvtxRange range(("suite " + selected[i]->name).c_str());  // Nsight timeline
      return selected[i]->run(ctx);
    }();
    for (const auto& [name, fig] : result.figures) report.figures[name] = fig;
    report.suites.push_back(std::move(result));
  }
  if (config.show_progress) bar.finish();
  meta.phase_seconds["suites"] = std::chrono::duration<double>(clock::now() - t_suites).count();
  if (base_cache) {
    base_cache->save();
    // Said every run: a cache that never hits (another device, a changed case) is worth seeing.
    fmt::print(stderr, "editgate: base answers: {} from the cache, {} computed ({})\n", base_cache->hits(),
               base_cache->misses(), base_cache->file().string());
  }
  harness::evaluate_gates(gates, report, spec_name);
  return report;
}

}  // namespace editgate::suites
