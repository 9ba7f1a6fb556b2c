// `editgate fixture build`: train the fixture model on the synthetic world.

#include <nlohmann/json.hpp>

#include <iostream>

#include "fixtures/fixture_builder.h"
#include "fixtures/requests_writer.h"
#include "fixtures/world.h"
#include "cli/commands.h"
#include "harness/json_file.h"
#include "harness/output_guard.h"

namespace editgate::cli {
namespace {

struct FixtureBuildFlags {
  std::string out = "fixture-out";
  std::optional<uint64_t> seed;
  std::string world_config;
  int64_t max_steps = 0;
  int threads = 0;
  bool json = false;
  bool force = false;
};

void run_fixture_build(const FixtureBuildFlags& f) {
  auto recipe = fixtures::default_recipe(f.seed);
  if (!f.world_config.empty()) {
    // The seed flag still wins over the file's seed, as it does over the default's.
    recipe.world = fixtures::load_world_config(f.world_config);
    if (f.seed) recipe.world.seed_ = *f.seed;
    recipe.trainer.seed = recipe.world.seed_;
    recipe.shape = fixtures::shape_of(recipe.world);
  }
  if (f.max_steps > 0) recipe.trainer.max_steps = f.max_steps;
  if (f.threads > 0) recipe.trainer.threads = f.threads;
  const auto result = fixtures::build_fixture(recipe, f.out, /*show_progress=*/true);
  const auto& j = result.fixture_json;
  if (f.json) {
    std::cout << harness::json_text(j) << "\n";
    return;
  }
  std::cout << "wrote " << f.out << ": " << j["model"]["n_parameters"].get<int64_t>() << " parameters, "
            << j["training"]["steps"].get<int64_t>() << " steps in " << j["training"]["seconds"].get<double>()
            << " s\n";
  for (const auto& [name, value] : j["final_metrics"].items()) {
    std::cout << "  " << name << ": " << value.get<double>() << "\n";
  }
  std::cout << "weights sha256: " << j["weights_sha256"].get<std::string>() << "\n";
}

// `fixture requests`: the request files of a world, without training. The world
// (and so the training text) depends on the config's world, text and relations
// sections only, so a committed model stays valid for new request sizes.
void run_fixture_requests(const FixtureBuildFlags& f) {
  auto world_config = f.world_config.empty() ? fixtures::default_world_config()
                                             : fixtures::load_world_config(f.world_config);
  if (f.seed) world_config.seed_ = *f.seed;
  const auto written = fixtures::write_fixture_files(fixtures::generate_world(world_config), f.out);
  std::cout << "wrote " << written.size() << " request files to " << f.out << "\n";
}

}  // namespace

void register_fixture_commands(CLI::App& app, int& exit_code) {
  auto* fixture = app.add_subcommand("fixture", "The embedded fixture world and its tiny GPT-2");
  fixture->require_subcommand(1);
  auto* build = fixture->add_subcommand(
      "build", "Generate the synthetic fact world and train the fixture model on it (deterministic for a seed)");
  auto flags = std::make_shared<FixtureBuildFlags>();
  build->add_option("--out", flags->out, "output checkpoint directory (replaced atomically)");
  build->add_option("--seed", flags->seed, "world and training seed (default: the committed fixture's)");
  build->add_option("--world-config", flags->world_config,
                    "world config JSON (default: fixtures/world_config.json, compiled in)")
      ->check(CLI::ExistingFile);
  build->add_option("--threads", flags->threads,
                    "training threads (default: the recipe's 2; the weights depend on it, so a rebuild that "
                    "must reproduce a checkpoint uses the thread count fixture.json records)")
      ->check(CLI::Range(1, 256));
  build->add_option("--max-steps", flags->max_steps, "cap on training steps (default: the recipe's)")
      ->check(CLI::PositiveNumber);
  build->add_flag("--json", flags->json, "print fixture.json on stdout");
  add_force_flag(build, flags->force);
  auto* requests = fixture->add_subcommand(
      "requests", "Write a world's request files (edits, MEMIT batches, ripple, preservation, concept datasets) "
                  "without training; for new request sizes on a committed model");
  auto rflags = std::make_shared<FixtureBuildFlags>();
  requests->add_option("--out", rflags->out, "output folder for the request files")->required();
  requests->add_option("--seed", rflags->seed, "world seed (default: the config's)");
  requests->add_option("--world-config", rflags->world_config,
                       "world config JSON (default: fixtures/world_config.json, compiled in)")
      ->check(CLI::ExistingFile);
  add_force_flag(requests, rflags->force);
  requests->callback([rflags, &exit_code] {
    harness::check_output({rflags->out, "--out", harness::kFixtureOutput, rflags->force}, {rflags->world_config});
    run_fixture_requests(*rflags);
    exit_code = kExitOk;
  });
  build->callback([flags, &exit_code] {
    harness::check_output({flags->out, "--out", harness::kFixtureOutput, flags->force}, {flags->world_config});
    run_fixture_build(*flags);
    exit_code = kExitOk;
  });
}

}  // namespace editgate::cli
