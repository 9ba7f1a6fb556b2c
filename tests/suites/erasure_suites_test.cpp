// The erasure suites on the committed fixture: LinearProbeRecovery probes by
// 5-fold cross-validation over every probe subject (so one lucky train/test
// split cannot carry the gate), agrees with erase-model's own report on the
// same eraser, and fails the fixture's gender eraser, which leaves gender
// readable on unseen subjects (docs/erasure.md: 100 subjects per class
// are too few for LEACE's class means in 128 dimensions).

#include <gtest/gtest.h>

#include <c10/core/GradMode.h>

#include <filesystem>

#include "editors/concept_dataset.h"
#include "editors/erase_model.h"
#include "harness/hook_names.h"
#include "harness/remove_tree.h"
#include "harness/text_model.h"
#include "suites/suite_runner.h"

namespace {

namespace fs = std::filesystem;

fs::path fixture_dir() { return fs::path(EDITGATE_SOURCE_DIR) / "fixtures" / "default"; }

const editgate::harness::Metric& metric(const editgate::harness::SuiteResult& s, const std::string& name) {
  for (const auto& m : s.metrics) {
    if (m.name == name) return m;
  }
  throw std::runtime_error("no metric " + name + " in " + s.name);
}

TEST(ErasureSuitesOnFixture, ProbeRecoveryCrossValidatesEveryProbeSubjectAndCatchesTheGenderLeak) {
  const fs::path scratch = fs::temp_directory_path() / ("editgate_erasure_suites_" + std::to_string(::getpid()));
  const auto dataset_path = fixture_dir() / "requests" / "erasure.gender.json";
  const auto dataset = editgate::editors::ConceptDataset::load(dataset_path);
  editgate::editors::EraseModelResult fitted;
  {
    c10::NoGradGuard no_grad;
    auto tm = editgate::harness::TextModel::load(fixture_dir(), {"cpu"});
    const auto point = editgate::harness::parse_hook_name("blocks.2.hook_resid_post", tm.model().config().n_layers);
    editgate::editors::EraseModelOptions options;
    options.resplits = 0;
    options.quadratic_probe = false;
    fitted = editgate::editors::erase_model(tm, dataset, point, options);
    editgate::editors::write_erase_model_outputs(scratch / "eraser", fitted);
  }

  editgate::suites::RunConfig c;
  c.base_dir = fixture_dir();
  c.edited_dir = fixture_dir();
  c.eraser = scratch / "eraser" / "eraser.safetensors";
  c.concept_dataset = dataset_path;
  c.suites = {"LinearProbeRecovery"};
  c.device = "cpu";
  c.show_progress = false;
  const auto report = editgate::suites::run_gate(c);
  editgate::harness::remove_tree(scratch);

  ASSERT_EQ(report.suites.size(), 1u);
  const auto& probe = report.suites[0];
  const auto& before = metric(probe, "probe_accuracy_before");
  const auto& after = metric(probe, "probe_accuracy_after");
  const auto& chance = metric(probe, "chance_accuracy");
  // Every probe subject is scored once.
  EXPECT_EQ(after.n, static_cast<int64_t>(dataset.probe_train.size() + dataset.probe_test.size()));
  EXPECT_NE(after.description.find("cross-validated by subject"), std::string::npos) << after.description;
  EXPECT_NE(after.description.find("clustered by 200 subjects"), std::string::npos) << after.description;
  // The suite (eraser read back from its file, installed at every position)
  // and erase-model (in memory, at the records' positions) probe the same thing.
  EXPECT_EQ(fitted.linear_after.folds, 5);
  EXPECT_NEAR(after.value, fitted.linear_after.accuracy, 0.01);
  EXPECT_NEAR(before.value, fitted.linear_before.accuracy, 0.01);
  EXPECT_GT(before.value, 0.9);
  std::cout << "gender at blocks.2, 5-fold CV over 200 subjects: " << before.value << " -> " << after.value << " ["
            << *after.ci_low << ", " << *after.ci_high << "], chance " << chance.value << "\n";
  // The finding: gender stays readable on unseen subjects, and the gate says so.
  EXPECT_GT(*after.ci_low, chance.value);
  ASSERT_EQ(probe.cases.size(), 1u);
  EXPECT_FALSE(probe.cases[0].passed);
  EXPECT_NE(probe.cases[0].message.find("still reads 'gender'"), std::string::npos) << probe.cases[0].message;
  EXPECT_FALSE(report.passed);
}

}  // namespace
