// Activation steering on a random-weight GPT-2: the fitted vector is the
// difference of the two sets' mean activations; installed, it adds exactly
// scale · v at its hook (scale 0 changes nothing); a steered checkpoint
// (base + steering file named by the manifest) loads with the vector
// installed and audits with no changed tensor; prompt files parse as a JSON
// array or one prompt per line.

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <gtest/gtest.h>

#include <fstream>
#include <memory>

#include "editors/audit.h"
#include "editors/edit_runner.h"
#include "editors/eraser_hook.h"
#include "editors/steering.h"
#include "harness/input_error.h"
#include "tests/editors/edit_test_model.h"

namespace editgate::editors {
namespace {

using testing::EditTestModel;

const std::vector<std::string> kPositive = {"ka lo was born in the", "mi ra lives in the"};
const std::vector<std::string> kNegative = {"te su was born in the", "no vi lives in the", "ka su lives in the"};

at::Tensor resid(harness::TextModel& tm, const std::string& prompt, harness::HookPoint point) {
  const auto ids = tm.encode_prompt(prompt);
  return collect_activations(tm.model(), point, {ids}, {static_cast<int64_t>(ids.size()) - 1})[0];
}

at::Tensor logits(harness::TextModel& tm, const std::string& prompt) {
  c10::NoGradGuard ng;
  return tm.model().forward(at::tensor(tm.encode_prompt(prompt), at::kLong).unsqueeze(0).to(tm.model().device())).cpu();
}

TEST(Steering, DifferenceOfMeansAddedAtTheHook) {
  EditTestModel m;
  const harness::HookPoint point{0, harness::HookSite::kResidPost};
  const auto fit = fit_steering(m.model(), point, kPositive, kNegative, 2.5);
  at::Tensor pos = at::zeros_like(fit.steering.vector), neg = at::zeros_like(fit.steering.vector);
  for (const auto& p : kPositive) pos += resid(m.model(), p, point) / 2.0;
  for (const auto& p : kNegative) neg += resid(m.model(), p, point) / 3.0;
  EXPECT_TRUE(at::allclose(fit.steering.vector, pos - neg, 1e-5, 1e-6));
  EXPECT_EQ(fit.n_positive, 2);
  const auto before = resid(m.model(), "vi no was born in the", point);
  const auto base_logits = logits(m.model(), "vi no was born in the");
  m.model().install_steering(&fit.steering);
  EXPECT_TRUE(at::allclose(resid(m.model(), "vi no was born in the", point), before + 2.5 * fit.steering.vector, 1e-5, 1e-5));
  EXPECT_FALSE(at::allclose(logits(m.model(), "vi no was born in the"), base_logits));
  auto zero = fit.steering;
  zero.scale = 0;
  m.model().install_steering(&zero);
  EXPECT_TRUE(at::equal(logits(m.model(), "vi no was born in the"), base_logits));
  m.model().install_steering(nullptr);
  EXPECT_TRUE(at::equal(logits(m.model(), "vi no was born in the"), base_logits));
}

TEST(Steering, SteeredCheckpointLoadsTheVectorAndAuditsClean) {
  EditTestModel m;
  const harness::HookPoint point{1, harness::HookSite::kResidPre};
  const auto fit = fit_steering(m.model(), point, kPositive, kNegative, 4.0);
  m.model().install_steering(&fit.steering);
  EditManifest man;
  man.method = "steering";
  man.base_weights_sha256 = m.model().loaded().weights_sha256;
  man.edited_weights_sha256 = man.base_weights_sha256;
  man.adapter = {{"kind", harness::kSteeringAdapterKind}, {"file", harness::kSteeringFile}, {"hook", point.to_string()}};
  const auto out = m.dir / "steered";
  save_edited_checkpoint(m.model(), man, out);
  auto loaded = harness::TextModel::load(out);
  ASSERT_NE(loaded.steering(), nullptr);
  EXPECT_EQ(loaded.steering()->point, point);
  EXPECT_EQ(loaded.steering()->scale, 4.0);
  EXPECT_TRUE(at::allclose(logits(loaded, kPositive[0]), logits(m.model(), kPositive[0]), 1e-5, 1e-6));
  const auto r = audit_checkpoints(m.ckpt, out);
  EXPECT_TRUE(r.pass()) << (r.problems.empty() ? "" : r.problems[0]);
  EXPECT_TRUE(r.changed.empty());
  EXPECT_TRUE(r.adapter["sha256_matches"].get<bool>());
}

TEST(Steering, ReadsPromptFilesAndRejectsEmptySets) {
  EditTestModel m;
  const auto json_file = m.dir / "p.json", text_file = m.dir / "p.txt", bad = m.dir / "bad.json";
  std::ofstream(json_file) << "[\"a b\", \"c d\"]";
  std::ofstream(text_file) << "a b\n\n  \nc d\r\n";
  std::ofstream(bad) << "[\"a\", 3]";
  EXPECT_EQ(read_prompt_file(json_file, "--positive"), (std::vector<std::string>{"a b", "c d"}));
  EXPECT_EQ(read_prompt_file(text_file, "--positive"), (std::vector<std::string>{"a b", "c d"}));
  EXPECT_THROW(read_prompt_file(bad, "--positive"), InputError);
  EXPECT_THROW(fit_steering(m.model(), {0, harness::HookSite::kResidPost}, {}, kNegative, 1.0), InputError);
}

}  // namespace
}  // namespace editgate::editors
