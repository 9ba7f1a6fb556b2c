// `editgate gate` (run the suites on a base/edited pair, apply the gates, write
// the reports) and `editgate validate` (check a requests file).

#include <nlohmann/json.hpp>

#include <iostream>
#include <map>

#include "cli/commands.h"
#include "harness/json_file.h"
#include "harness/input_error.h"
#include "harness/output_guard.h"
#include "reports/json_report_writer.h"
#include "reports/write_reports.h"
#include "suites/suite_runner.h"

namespace editgate::cli {
namespace {

struct GateFlags {
  suites::RunConfig config;
  std::string report_dir = "reports-out";
  std::string suites_csv;
  bool json = false;
  bool force = false;
};

std::vector<std::string> split_csv(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else if (c != ' ') {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

}  // namespace

int run_gate_and_report(const suites::RunConfig& config, const std::string& report_dir, bool json) {
  const auto report = suites::run_gate(config);
  reports::write_reports(report, report_dir);
  if (json) {
    std::cout << reports::report_json(report) << "\n";
  } else {
    std::cout << reports::summary_table(report);
    std::cout << "reports: " << report_dir << "/{" << reports::kReportJsonFile << ", " << reports::kJunitXmlFile << ", "
              << reports::kReportHtmlFile << "}\n";
  }
  return report.passed ? kExitOk : kExitGateFailed;
}

void register_gate_commands(CLI::App& app, int& exit_code) {
  {
    auto* cmd = app.add_subcommand("gate",
                                   "Run the suites on an edited checkpoint against its base, apply the gates, write "
                                   "report.json, junit.xml and report.html. Exit 0 pass, 1 a gate failed "
                                   "(or no enforced gate had data), 2 bad input");
    auto f = std::make_shared<GateFlags>();
    cmd->add_option("--base", f->config.base_dir, "base checkpoint directory, .gguf file, smollm2 or gemma3")->required()->transform(model_path_validator());
    cmd->add_option("--edited", f->config.edited_dir, "edited checkpoint directory")
        ->required()
        ->check(CLI::ExistingDirectory);
    cmd->add_option("--requests", f->config.requests,
                    "edit requests (CounterFact, zsRE, MQuAKE, RippleEdits or EasyEdit JSON); optional for an "
                    "erasure-only gate (--eraser)")
        ->check(CLI::ExistingFile);
    cmd->add_option("--preservation", f->config.preservation,
                    "unrelated facts for FactPreservation (default: preservation.json beside the requests)")
        ->check(CLI::ExistingFile);
    cmd->add_option("--cot", f->config.cot, "chain-of-thought items (default: cot.json beside the requests)")
        ->check(CLI::ExistingFile);
    cmd->add_option("--eraser", f->config.eraser, "LEACE eraser (safetensors) for the erasure suites")
        ->check(CLI::ExistingFile);
    cmd->add_option("--concept", f->config.concept_dataset,
                    "concept dataset (editgate.erasure_dataset JSON) the erasure suites probe with the eraser")
        ->check(CLI::ExistingFile);
    cmd->add_option("--spec", f->config.spec, "gate spec JSON (default: the gates of docs/design.md)")->check(CLI::ExistingFile);
    cmd->add_option("--suites", f->suites_csv, "comma-separated suites to run (default: all)");
    cmd->add_option("--report-dir", f->report_dir, "where the reports go (files replaced atomically)");
    cmd->add_option("--device", f->config.device, "cpu, cuda, cuda:N or auto");
    cmd->add_option("--base-cache", f->config.base_cache_dir,
                    "keep the base's answers in DIR and reuse them: gates of many candidates of one base score the base once");
    cmd->add_option("--seed", f->config.options.seed, "seed recorded in the report");
    cmd->add_flag("--json", f->json, "print report.json on stdout instead of the table");
    add_force_flag(cmd, f->force);
    cmd->callback([f, &exit_code] {
      const auto& c = f->config;
      harness::check_output({f->report_dir, "--report-dir", harness::kReportOutput, f->force},
                            {c.base_dir, c.edited_dir, c.requests, c.preservation, c.cot, c.eraser, c.concept_dataset, c.spec});
      if (f->config.requests.empty() && f->config.eraser.empty()) {
        throw InputError("", "--requests", "an edit requests file (or --eraser for an erasure-only gate)", "nothing");
      }
      if (!f->config.eraser.empty() && f->config.concept_dataset.empty()) {
        throw InputError("", "--concept", "the concept dataset to probe the eraser with", "nothing");
      }
      f->config.suites = split_csv(f->suites_csv);
      exit_code = run_gate_and_report(f->config, f->report_dir, f->json);
    });
  }
  {
    auto* cmd = app.add_subcommand("validate", "Detect a requests file's format, count its cases, reject bad records");
    auto path = std::make_shared<std::string>();
    auto json = std::make_shared<bool>(false);
    cmd->add_option("--requests", *path, "requests file")->required()->check(CLI::ExistingFile);
    cmd->add_flag("--json", *json, "machine-readable output");
    cmd->callback([path, json, &exit_code] {
      const auto set = suites::load_requests(*path);
      std::map<std::string, int64_t> ripple;
      for (const auto& rc : set.ripple) {
        for (const auto& t : rc.tests) ++ripple[t.criterion];
      }
      int64_t paraphrases = 0, neighbours = 0;
      for (const auto& e : set.edits) {
        paraphrases += static_cast<int64_t>(e.paraphrase_prompts.size());
        neighbours += static_cast<int64_t>(e.neighborhood_prompts.size());
      }
      const nlohmann::json j = {{"path", *path},
                                {"format", set.format},
                                {"edits", set.edits.size()},
                                {"paraphrase_prompts", paraphrases},
                                {"neighborhood_prompts", neighbours},
                                {"ripple_tests", ripple}};
      if (*json) {
        std::cout << harness::json_text(j) << "\n";
      } else {
        std::cout << *path << ": " << set.format << ", " << set.edits.size() << " edits, " << paraphrases
                  << " paraphrase prompts, " << neighbours << " neighbourhood prompts";
        for (const auto& [k, v] : ripple) std::cout << ", " << v << " " << k;
        std::cout << "\n";
      }
      exit_code = kExitOk;
    });
  }
}

}  // namespace editgate::cli
