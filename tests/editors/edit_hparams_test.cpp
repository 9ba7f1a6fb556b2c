// Hyperparameter files: every embedded file parses, reference values are
// kept, unknown keys and mistyped values are rejected naming the field.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "editors/edit_hparams.h"
#include "editors/embedded_hparams.h"
#include "harness/input_error.h"

namespace editgate::editors {
namespace {

using nlohmann::json;

TEST(EditHparams, EveryEmbeddedFileParses) {
  const auto names = embedded_hparams_names();
  EXPECT_GE(names.size(), 11u);
  for (const auto& n : names) {
    const auto j = json::parse(*embedded_hparams(n));
    if (n.starts_with("rome/")) {
      EXPECT_NO_THROW(parse_rome_hparams(j, n)) << n;
    } else if (n.starts_with("ft/")) {
      EXPECT_NO_THROW(parse_ft_hparams(j, n)) << n;
    } else if (n.starts_with("grace/")) {
      EXPECT_NO_THROW(parse_grace_hparams(j, n)) << n;
    } else if (n.starts_with("mend/")) {
      EXPECT_NO_THROW(parse_mend_hparams(j, n)) << n;
    } else {
      EXPECT_NO_THROW(parse_memit_hparams(j, n)) << n;
    }
  }
  EXPECT_FALSE(embedded_hparams("rome/none").has_value());
}

TEST(EditHparams, KeepsReferenceDefaults) {
  const auto rome = parse_rome_hparams(json::parse(*embedded_hparams("rome/gpt2-xl")), "x");
  EXPECT_EQ(rome.layer, 17);
  EXPECT_EQ(rome.value.num_steps, 20);
  EXPECT_DOUBLE_EQ(rome.value.lr, 0.5);
  EXPECT_DOUBLE_EQ(rome.value.weight_decay, 0.5);
  EXPECT_DOUBLE_EQ(rome.value.clamp_norm_factor, 4);
  EXPECT_DOUBLE_EQ(rome.value.kl_factor, 0.0625);
  EXPECT_EQ(rome.context.length_count, (std::vector<std::array<int64_t, 2>>{{5, 10}, {10, 10}}));
  EXPECT_EQ(parse_rome_hparams(json::parse(*embedded_hparams("rome/gpt-j")), "x").layer, 5);
  const auto memit = parse_memit_hparams(json::parse(*embedded_hparams("memit/gpt2-xl")), "x");
  EXPECT_EQ(memit.layers, (std::vector<int64_t>{13, 14, 15, 16, 17}));
  EXPECT_DOUBLE_EQ(memit.mom2_update_weight, 20000);
  EXPECT_DOUBLE_EQ(memit.value.clamp_norm_factor, 0.75);
  EXPECT_EQ(memit.context.seed_words.size(), 5u);
  const auto gptj = parse_memit_hparams(json::parse(*embedded_hparams("memit/gpt-j")), "x");
  EXPECT_EQ(gptj.layers, (std::vector<int64_t>{3, 4, 5, 6, 7, 8}));
  EXPECT_DOUBLE_EQ(gptj.mom2_update_weight, 15000);
  const auto alpha = parse_memit_hparams(json::parse(*embedded_hparams("alphaedit/gpt2-xl")), "x");
  EXPECT_DOUBLE_EQ(alpha.nullspace_threshold, 2e-2);
  EXPECT_DOUBLE_EQ(alpha.l2, 10);
  // Canonical JSON round-trips.
  EXPECT_EQ(to_json(parse_rome_hparams(json(to_json(rome)), "y")), to_json(rome));
  EXPECT_EQ(to_json(parse_memit_hparams(json(to_json(memit)), "y")), to_json(memit));
}

// A fixture names its hparams set in fixture.json's world_config.editing.hparams;
// without one (or with a fixture.json that does not parse) it gets "fixture".
TEST(EditHparams, FixtureNamesItsSet) {
  const auto dir = std::filesystem::temp_directory_path() / ("editgate_hparams_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto write = [&](const std::string& text) { std::ofstream(dir / "fixture.json") << text; };
  write(R"({"world_config": {"seed": 1}})");
  EXPECT_EQ(default_hparams_model(dir.string(), harness::ModelConfig{}), "fixture");
  write(R"({"world_config": {"editing": {"hparams": "fixture-wide"}}})");
  EXPECT_EQ(default_hparams_model(dir.string(), harness::ModelConfig{}), "fixture-wide");
  EXPECT_NO_THROW(parse_memit_hparams(json::parse(*embedded_hparams("memit/fixture-wide")), "x"));
  write("{not json");
  EXPECT_EQ(default_hparams_model(dir.string(), harness::ModelConfig{}), "fixture");
  std::filesystem::remove_all(dir);
  // The committed wide fixture picks its own set.
  EXPECT_EQ(default_hparams_model(EDITGATE_SOURCE_DIR "/fixtures/wide", harness::ModelConfig{}), "fixture-wide");
}

// Gemma 3 270M and Pythia-1.4B get their files without --hparams: Gemma's
// layers from the trace in docs/real-models.md, Pythia's GPT-J's scaled by depth.
TEST(EditHparams, GemmaAndPythiaDefaults) {
  harness::ModelConfig gemma;
  gemma.model_type = "gemma3_text";
  gemma.n_layers = 18;
  gemma.d_model = 640;
  EXPECT_EQ(default_hparams_model("/nonexistent", gemma), "gemma3");
  harness::ModelConfig pythia;
  pythia.model_type = "gpt_neox";
  pythia.n_layers = 24;
  pythia.d_model = 2048;
  EXPECT_EQ(default_hparams_model("/nonexistent", pythia), "pythia-1.4b");
  pythia.n_layers = 16;  // Pythia-1B: no file
  EXPECT_EQ(default_hparams_model("/nonexistent", pythia), std::nullopt);
  EXPECT_EQ(parse_rome_hparams(json::parse(*embedded_hparams("rome/gemma3")), "x").layer, 3);
  EXPECT_EQ(parse_memit_hparams(json::parse(*embedded_hparams("memit/gemma3")), "x").layers,
            (std::vector<int64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(parse_rome_hparams(json::parse(*embedded_hparams("rome/pythia-1.4b")), "x").layer, 4);
  EXPECT_EQ(parse_memit_hparams(json::parse(*embedded_hparams("memit/pythia-1.4b")), "x").layers,
            (std::vector<int64_t>{3, 4, 5, 6, 7}));
}

// Fixed templates replace the sampler and keep their groups; MEMIT's default
// seed words and lengths do not come back beside them; the manifest's JSON
// carries them and reads back the same.
TEST(EditHparams, FixedContextTemplates) {
  const json groups = {{"{}"}, {"a b . {}", "c . {}"}};
  const auto h = parse_memit_hparams({{"layers", {0}}, {"context_templates", groups}}, "m.json");
  EXPECT_EQ(json(h.context.fixed), groups);
  EXPECT_TRUE(h.context.length_count.empty());
  EXPECT_TRUE(h.context.seed_words.empty());
  const auto j = to_json(h);
  EXPECT_EQ(j["context_templates"], groups);
  EXPECT_EQ(json(parse_memit_hparams(json::parse(j.dump()), "again").context.fixed), groups);
  EXPECT_FALSE(to_json(parse_memit_hparams({{"layers", {0}}}, "m.json")).contains("context_templates"));
}

TEST(EditHparams, RejectsUnknownAndMistypedFields) {
  auto expect_field = [](const json& j, const std::string& field) {
    try {
      parse_rome_hparams(j, "h.json");
      ADD_FAILURE() << j.dump();
    } catch (const InputError& e) {
      EXPECT_EQ(e.path(), "h.json");
      EXPECT_EQ(e.field(), field) << e.what();
    }
  };
  expect_field({{"layers", {1}}, {"v_lrr", 0.5}}, "v_lrr");
  expect_field({{"layers", {1}}, {"v_lr", "fast"}}, "v_lr");
  expect_field({{"layers", {1, 2}}}, "layers");
  expect_field({{"layers", json::array()}}, "layers");
  expect_field({{"layers", {-1}}}, "layers");
  expect_field({{"layers", {1}}, {"v_num_grad_steps", 0}}, "v_num_grad_steps");
  expect_field({{"layers", {1}}, {"clamp_norm_factor", -1}}, "clamp_norm_factor");
  expect_field({{"layers", {1}}, {"mom2_dtype", "float16"}}, "mom2_dtype");
  expect_field({{"layers", {1}}, {"insert_key", "last"}}, "insert_key");
  expect_field({{"layers", {1}}, {"kl_prompts", {"no slot"}}}, "kl_prompts");
  expect_field({{"layers", {1}}, {"context_template_length_params", {{0, 3}}}}, "context_template_length_params");
  expect_field({{"layers", {1}}, {"context_templates", {{"x . {}"}}}}, "context_templates");  // "{}" group first
  expect_field({{"layers", {1}}, {"context_templates", {{"{}"}, {"a {} b {}"}}}}, "context_templates");
  expect_field({{"layers", {1}}, {"context_templates", {{"{}"}, {"no slot"}}}}, "context_templates");
  expect_field({{"layers", {1}}, {"context_templates", {{"{}"}, json::array()}}}, "context_templates");
  expect_field({{"layers", {1}}, {"context_templates", {{"{}"}}}, {"context_template_length_params", {{5, 2}}}},
               "context_template_length_params");
  expect_field(json::array(), "");
  EXPECT_NO_THROW(parse_rome_hparams({{"layers", {1}}, {"_comment", "fine"}}, "h.json"));
  EXPECT_THROW(parse_memit_hparams({{"layers", {3, 2}}}, "m.json"), InputError);
  EXPECT_THROW(parse_ft_hparams({{"layers", {0}}, {"norm_constraint", 0}}, "f.json"), InputError);
}

}  // namespace
}  // namespace editgate::editors
