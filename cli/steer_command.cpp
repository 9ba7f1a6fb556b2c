// `editgate steer`: fit a difference-of-means steering vector at a hook point
// (editors/steering.h) and write a steered "checkpoint": the base plus
// steering_vector.safetensors named by edit_manifest.json's adapter, which
// TextModel::load installs, so `editgate gate --edited DIR` runs every suite on
// the steered model. Parsing and printing only.

#include <fmt/format.h>

#include <iostream>

#include "editors/edit_manifest.h"
#include "editors/edit_runner.h"
#include "editors/embedded_hparams.h"
#include "editors/steering.h"
#include "harness/checkpoint.h"
#include "cli/commands.h"
#include "harness/output_guard.h"
#include "harness/text_model.h"

namespace editgate::cli {
namespace {

struct SteerFlags {
  std::string model, positive, negative, hook, out;
  double scale = 1.0;
  std::string device = "auto";
  bool json = false;
  bool force = false;
};

void run_steer_command(const SteerFlags& f) {
  auto tm = harness::TextModel::load(f.model, harness::LoadOptions{f.device, "auto", true});
  const auto point = harness::parse_hook_name(f.hook, tm.model().config().n_layers, "--hook");
  const auto fit = editors::fit_steering(tm, point, editors::read_prompt_file(f.positive, "--positive"),
                                         editors::read_prompt_file(f.negative, "--negative"), f.scale);
  tm.install_steering(&fit.steering);
  editors::EditManifest man;
  man.editgate_version = std::string(editors::editgate_version());
  man.method = "steering";
  man.hparams = {{"hook", f.hook}, {"scale", f.scale}, {"positive", f.positive}, {"negative", f.negative}};
  man.base_dir = tm.dir().string();
  man.base_weights_sha256 = tm.loaded().weights_sha256;
  man.edited_weights_sha256 = man.base_weights_sha256;  // no weight changes
  man.device = tm.model().device().str();
  man.extra = {{"n_positive", fit.n_positive}, {"n_negative", fit.n_negative}, {"vector_norm", fit.vector_norm},
               {"mean_activation_norm", fit.mean_activation_norm}};
  man.adapter = {{"kind", harness::kSteeringAdapterKind}, {"file", harness::kSteeringFile}, {"hook", f.hook},
                 {"scale", f.scale}};
  const auto text = editors::save_edited_checkpoint(tm, man, f.out);
  if (f.json) {
    std::cout << text;
    return;
  }
  std::cout << fmt::format("steering vector at {}: {} positive, {} negative prompts; |v| {:.4g} (mean |activation| "
                           "{:.4g}), scale {} -> {}\n",
                           f.hook, fit.n_positive, fit.n_negative, fit.vector_norm, fit.mean_activation_norm, f.scale,
                           f.out);
}

}  // namespace

void register_steer_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("steer", "Fit a difference-of-means steering vector and write a steered checkpoint "
                                          "(base + vector) that gate and the suites load with the vector installed");
  auto f = std::make_shared<SteerFlags>();
  cmd->add_option("--model", f->model, "base checkpoint directory")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--positive", f->positive, "prompts towards which to steer (JSON array or one per line)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--negative", f->negative, "prompts away from which to steer")->required()->check(CLI::ExistingFile);
  cmd->add_option("--hook", f->hook, "hook point, e.g. blocks.2.hook_resid_post")->required();
  cmd->add_option("--scale", f->scale, "multiplier of the vector at inference");
  cmd->add_option("--out", f->out, "output directory (written atomically)")->required();
  cmd->add_option("--device", f->device, "cpu, cuda, cuda:N or auto");
  cmd->add_flag("--json", f->json, "print the manifest");
  add_force_flag(cmd, f->force);
  cmd->callback([f, &exit_code] {
    harness::check_output({f->out, "--out", harness::kCheckpointOutput, f->force}, {f->model, f->positive, f->negative});
    run_steer_command(*f);
    exit_code = kExitOk;
  });
}

}  // namespace editgate::cli
