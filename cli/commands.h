#pragma once
// Registration of the CLI's subcommands. Each register_* adds its subcommands
// to the app, with a callback that runs the command and returns its exit code
// through `exit_code`. Commands print results on stdout (JSON with --json) and
// progress on stderr.

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <string>

namespace editgate::suites {
struct RunConfig;
}
namespace editgate::editors {
struct TraceResult;
}

namespace editgate::cli {

// Exit codes everywhere (docs/design.md): 0 success/pass, 1 gate failed, 2 bad input, 3 internal error.
inline constexpr int kExitOk = 0;
inline constexpr int kExitGateFailed = 1;
inline constexpr int kExitBadInput = 2;
inline constexpr int kExitInternal = 3;

void register_model_commands(CLI::App& app, int& exit_code);    // inspect, tokenize, score, generate
void register_fixture_commands(CLI::App& app, int& exit_code);  // fixture build
void register_erasure_commands(CLI::App& app, int& exit_code);  // erase, probe, erase-model
void register_edit_commands(CLI::App& app, int& exit_code);     // edit, audit, trace
void register_gate_commands(CLI::App& app, int& exit_code);     // gate, validate
void register_demo_command(CLI::App& app, int& exit_code);      // demo
void register_debug_command(CLI::App& app, int& exit_code);     // debug
void register_steer_command(CLI::App& app, int& exit_code);     // steer
void register_mend_command(CLI::App& app, int& exit_code);      // mend train

// --force on every writing command; the rule it relaxes is harness/output_guard.h's.
inline CLI::Option* add_force_flag(CLI::App* cmd, bool& force) {
  return cmd->add_flag("--force", force,
                       "replace an existing editgate output of the same kind (never a path editgate did not write)");
}

// The resid/mlp/attn heatmaps of a causal trace stacked in one SVG element
// (the figures are reports/'; this maps the editor's result onto them).
std::string trace_svg(const editors::TraceResult& r, const std::string& title);

// --model/--base values: a checkpoint directory, a .gguf file, or a packaged
// model's alias (smollm2), which it replaces by the file's path.
CLI::Validator model_path_validator();

// `editgate edit` with default hyperparameters, corpus and stats cache (the demo's edits).
// `corpus`: the text for C = E[kk^T] ("": the fixture's statistics corpus).
void edit_checkpoint(const std::string& model, const std::string& method, const std::string& requests,
                     const std::string& out, uint64_t seed, const std::string& corpus = "");

// Runs one gate, writes its reports, prints the table; returns the exit code (0 pass, 1 fail).
int run_gate_and_report(const suites::RunConfig& config, const std::string& report_dir, bool json);

}  // namespace editgate::cli
