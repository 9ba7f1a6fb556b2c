// erase-model end to end on a random-weight model (the trained fixture model is
// not needed for the plumbing): activations at the records' positions, LEACE on
// the fit split, probes before and after (after = collected with the eraser
// installed), recall with and without the eraser, and the output directory.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "editors/concept_dataset.h"
#include "editors/erase_model.h"
#include "editors/eraser.h"
#include "harness/hook_names.h"
#include "harness/safetensors_reader.h"
#include "harness/text_model.h"
#include "tests/editors/random_text_model.h"
#include "tests/harness/tiny_checkpoint.h"

namespace editgate::testing {
namespace {

class EraseModel : public ::testing::TestWithParam<std::string> {};

TEST_P(EraseModel, FitsProbesMeasuresRecallAndWritesItsOutputs) {
  c10::NoGradGuard no_grad;
  TempDir dir;
  write_random_text_model(dir / "m", GetParam(), 3);
  auto tm = harness::TextModel::load(dir / "m", harness::LoadOptions{"cpu"});
  std::ofstream(dir / "ds.json") << make_concept_dataset(4, 3).dump();
  const auto ds = editors::ConceptDataset::load(dir / "ds.json");
  const auto point = harness::parse_hook_name("blocks.1.hook_resid_post", tm.model().config().n_layers);

  const auto r = editors::erase_model(tm, ds, point, {});
  EXPECT_EQ(r.hook, "blocks.1.hook_resid_post");
  EXPECT_EQ(r.positions, "record");
  EXPECT_EQ(r.fit.n, static_cast<int64_t>(ds.fit.size()));
  EXPECT_EQ(r.fit.rank, 3);
  // Cross-validated: every probe record is scored once.
  const auto probe_rows = static_cast<int64_t>(ds.probe_train.size() + ds.probe_test.size());
  EXPECT_EQ(r.linear_before.n_test, probe_rows);
  EXPECT_EQ(r.linear_after.n_test, probe_rows);
  EXPECT_EQ(r.linear_after.folds, 5);
  // Random weights: whether the label is readable is luck, so only the bookkeeping is checked here.
  EXPECT_GT(r.linear_before.accuracy, 0.0);
  EXPECT_EQ(r.recall_base.n, 192);
  EXPECT_EQ(r.recall_erased.n, 192);
  EXPECT_EQ(r.recall_base.by_relation.at("born_in").second, 192);
  // The probe's interval counts subjects: the dataset's records name them.
  EXPECT_GT(r.linear_after.n_groups, 0);
  EXPECT_LT(r.linear_after.n_groups, r.linear_after.n_test);
  ASSERT_TRUE(r.resplits.has_value());
  EXPECT_EQ(r.resplits->accuracy_after.size(), 10u);
  std::cout << GetParam() << ": probe " << r.linear_before.accuracy << " -> " << r.linear_after.accuracy
            << " (chance " << r.linear_after.chance_accuracy << "), recall " << r.recall_base.rate() << " -> "
            << r.recall_erased.rate() << " (random weights)\n";

  editors::write_erase_model_outputs(dir / "out", r, {{"model", "random"}});
  const auto loaded = editors::Eraser::load(dir / "out" / "eraser.safetensors");
  EXPECT_EQ(loaded.rank(), 3);
  const auto file = harness::SafetensorsFile::open(dir / "out" / "eraser.safetensors");
  EXPECT_EQ(file->metadata().at("hook"), "blocks.1.hook_resid_post");
  EXPECT_EQ(file->metadata().at("format"), "editgate.eraser");
  const auto report = nlohmann::json::parse(std::ifstream(dir / "out" / "report.json"));
  for (const char* key : {"fit", "linear_before", "linear_after", "recall_base", "recall_erased", "recall_drop",
                          "quadratic_after", "guarantee", "resplits"}) {
    EXPECT_TRUE(report.contains(key)) << key;
  }
  // Rewriting replaces the directory atomically.
  editors::write_erase_model_outputs(dir / "out", r, {});
  EXPECT_TRUE(std::filesystem::exists(dir / "out" / "report.json"));
}

TEST_P(EraseModel, AllPositionsVariantRuns) {
  c10::NoGradGuard no_grad;
  TempDir dir;
  write_random_text_model(dir / "m", GetParam(), 4);
  auto tm = harness::TextModel::load(dir / "m", harness::LoadOptions{"cpu"});
  const auto ds = editors::ConceptDataset::parse(make_concept_dataset(2, 2), "ds.json");
  editors::EraseModelOptions options;
  options.all_positions = true;
  options.quadratic_probe = false;
  const auto r = editors::erase_model(tm, ds, {0, harness::HookSite::kMlpPost}, options);
  EXPECT_EQ(r.positions, "all");
  EXPECT_EQ(r.eraser.dim(), tm.model().config().d_mlp);
  EXPECT_FALSE(r.quadratic_after.has_value());
}

INSTANTIATE_TEST_SUITE_P(Architectures, EraseModel, ::testing::Values("gpt2", "llama"),
                         [](const auto& info) { return info.param == "gpt2" ? "Gpt2" : "Llama"; });

}  // namespace
}  // namespace editgate::testing
