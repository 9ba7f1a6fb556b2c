// `editgate mend train`: train a MEND hypernetwork (editors/mend.h) on edit
// requests and write the editor directory that `editgate edit --method mend
// --editor DIR` applies. Parsing, defaults and printing only.

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <iostream>
#include <numeric>

#include "editors/edit_hparams.h"
#include "editors/edit_runner.h"
#include "editors/mend.h"
#include "editors/mend_editor_file.h"
#include "editors/request_formats.h"
#include "cli/commands.h"
#include "harness/json_file.h"
#include "harness/output_guard.h"
#include "editors/method_hparams.h"
#include "harness/input_error.h"
#include "harness/text_model.h"

namespace editgate::cli {
namespace {

struct MendTrainFlags {
  std::string model, requests, out, hparams;
  int64_t steps = -1;
  uint64_t seed = 0;
  std::string device = "auto";
  bool json = false;
  bool force = false;
};

double mean_of(const std::vector<double>& v, size_t begin, size_t end) {
  if (end <= begin) return 0;
  return std::accumulate(v.begin() + static_cast<std::ptrdiff_t>(begin), v.begin() + static_cast<std::ptrdiff_t>(end), 0.0) /
         static_cast<double>(end - begin);
}

void run_mend_train(const MendTrainFlags& f) {
  auto tm = harness::TextModel::load(f.model, harness::LoadOptions{f.device, "auto", true});
  std::string source;
  const auto h = editors::parse_mend_hparams(editors::resolve_method_hparams("mend", f.model, tm.model().config(), f.hparams, source), source);
  const auto requests = editors::load_edit_requests(f.requests).edits;
  if (requests.empty()) throw InputError(f.requests, "", "at least one edit request", "none");
  editors::validate_requests(tm, requests, f.requests);
  auto net = editors::make_mend_network(tm, h, f.seed, source);
  editors::MendTrainOptions o;
  o.steps = f.steps;
  o.seed = f.seed;
  o.show_progress = true;
  const auto r = editors::train_mend(tm, net, requests, h, o);
  // The loss over the first and last tenth of the steps (each step's few edits are noisy).
  const size_t n = r.losses.size(), tenth = std::max<size_t>(1, n / 10);
  nlohmann::ordered_json alphas = nlohmann::ordered_json::array();
  for (size_t i = 0; i < net.weights().size(); ++i) alphas.push_back(net.alpha(i));
  const nlohmann::ordered_json training = {
      {"requests", f.requests},         {"n_requests", requests.size()},
      {"hparams_source", source},       {"seed", f.seed},
      {"steps", r.steps},               {"seconds", r.seconds},
      {"device", tm.model().device().str()},
      {"loss_first_tenth", mean_of(r.losses, 0, tenth)},
      {"loss_last_tenth", mean_of(r.losses, n - std::min(n, tenth), n)},
      {"edit_nll_last_tenth", mean_of(r.edit_losses, n - std::min(n, tenth), n)},
      {"kl_last_tenth", mean_of(r.loc_losses, n - std::min(n, tenth), n)},
      {"edit_lrs", alphas}};
  editors::write_mend_editor(f.out, tm, net, h, training);
  if (f.json) {
    std::cout << harness::json_text(training) << "\n";
    return;
  }
  std::cout << fmt::format("MEND on {} ({}): {} steps on {} requests in {:.1f} s -> {}\n", f.model,
                           fmt::join(net.weights(), ", "), r.steps, requests.size(), r.seconds, f.out);
  std::cout << fmt::format("  loss {:.4f} (first tenth) -> {:.4f} (last tenth); edit NLL {:.4f}, KL {:.5f}\n",
                           training["loss_first_tenth"].get<double>(), training["loss_last_tenth"].get<double>(),
                           training["edit_nll_last_tenth"].get<double>(), training["kl_last_tenth"].get<double>());
  for (size_t i = 0; i < net.weights().size(); ++i) {
    std::cout << fmt::format("  {}  edit lr {:.4g}\n", net.weights()[i], net.alpha(i));
  }
}

}  // namespace

void register_mend_command(CLI::App& app, int& exit_code) {
  auto* mend = app.add_subcommand("mend", "MEND: train the gradient-transforming hypernetwork (then `edit --method mend`)");
  mend->require_subcommand(1);
  auto* train = mend->add_subcommand("train", "Train a MEND editor on edit requests and write it to --out (atomically)");
  auto f = std::make_shared<MendTrainFlags>();
  train->add_option("--model", f->model, "base checkpoint directory, .gguf file, smollm2 or gemma3")->required()->transform(model_path_validator());
  train->add_option("--requests", f->requests,
                    "training edit requests (CounterFact, zsRE, MQuAKE, RippleEdits or EasyEdit JSON; keep them apart from the requests you evaluate)")
      ->required()
      ->check(CLI::ExistingFile);
  train->add_option("--out", f->out, "editor directory to write (mend.safetensors, mend.json)")->required();
  train->add_option("--hparams", f->hparams, "hyperparameter JSON (default: the embedded editors/hparams/mend/{model}.json)")
      ->check(CLI::ExistingFile);
  train->add_option("--steps", f->steps, "training steps (default: the hparams' max_iters)")->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  train->add_option("--seed", f->seed, "seed of the initialisation and the request order");
  train->add_option("--device", f->device, "cpu, cuda, cuda:N or auto");
  train->add_flag("--json", f->json, "print the training record as JSON");
  add_force_flag(train, f->force);
  train->callback([f, &exit_code] {
    harness::check_output({f->out, "--out", harness::kMendEditorOutput, f->force}, {f->model, f->requests, f->hparams});
    run_mend_train(*f);
    exit_code = kExitOk;
  });
}

}  // namespace editgate::cli
