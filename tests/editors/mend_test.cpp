// MEND invariants: the captured factors give the fine-tuning gradient
// (sum_t delta_t u_t^T equals autograd's dL/dW for W_in and W_out of two
// layers); the identity-initialised network's update is alpha times that
// gradient and apply_mend subtracts exactly it; an editor written and read
// back gives bit-identical updates; bad editor directories are InputErrors;
// a short training run on the fixture lowers the training loss.

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <iostream>

#include "editors/context_templates.h"
#include "editors/mend.h"
#include "editors/mend_editor_file.h"
#include "editors/mend_factors.h"
#include "harness/input_error.h"
#include "harness/safetensors_writer.h"
#include "tests/editors/edit_test_model.h"
#include "tests/editors/fixture_eval.h"

namespace editgate::editors {
namespace {

namespace fs = std::filesystem;
using testing::EditTestModel;

const std::vector<std::string> kWeights = {"blocks.0.mlp.W_in", "blocks.0.mlp.W_out", "blocks.1.mlp.W_in",
                                           "blocks.1.mlp.W_out"};

TargetBatch batch_of(harness::TextModel& tm, const std::vector<EditRequest>& requests) {
  std::vector<TargetRow> rows;
  for (const auto& r : requests) rows.push_back({r.filled_prompt(), encode_target(tm, r.target_new, r.case_id, "t")});
  return make_target_batch(tm, rows, tm.model().device());
}

MendHparams small_hparams() {
  MendHparams h;
  h.inner_params = kWeights;
  h.rank = 8;
  h.hidden_bias = 1e-3;  // identity all the same (checked below)
  h.edit_lr = 1e-2;
  h.lr = 1e-2;
  h.lr_lr = 1e-3;
  h.batch_size = 2;
  h.n_loc = 2;
  return h;
}

// The requests with paraphrases and neighbourhood prompts, for the training loss.
std::vector<EditRequest> requests_with_prompts(int n) {
  auto rs = testing::test_requests(n);
  for (auto& r : rs) {
    r.paraphrase_prompts = {"people say " + r.subject + " was born in the"};
    r.neighborhood_prompts = {"ka lo lives in the", "mi ra was born in the"};
  }
  return rs;
}

TEST(MendFactors, SumOfOuterProductsIsTheGradient) {
  EditTestModel m;
  auto& tm = m.model();
  auto& model = tm.model();
  // Two rows of different lengths, so padding is exercised.
  const auto batch = batch_of(tm, {testing::test_requests(3)[0], testing::test_requests(3)[2]});
  const auto factors = capture_factors(tm, kWeights, batch);

  c10::AutoGradMode grad(true);
  std::vector<harness::WeightRef> refs;
  for (const auto& w : kWeights) {
    refs.push_back(model.weight_ref(w));
    model.parameter(refs.back().tensor_name).requires_grad_(true);
  }
  harness::ForwardOptions fo;
  fo.attention_mask = batch.mask;
  target_nll(model.forward(batch.ids, fo), batch).backward();
  for (size_t i = 0; i < kWeights.size(); ++i) {
    auto& p = model.parameter(refs[i].tensor_name);
    const auto autograd = refs[i].transposed ? p.grad().t() : p.grad();  // [d_out, d_in]
    const auto captured = at::matmul(factors[i].delta.t(), factors[i].u);
    const double diff = (captured - autograd).abs().max().item<double>();
    const double scale = autograd.abs().max().item<double>();
    std::cout << kWeights[i] << ": max |diff| " << diff << " (max |grad| " << scale << ", " << factors[i].u.size(0)
              << " tokens)\n";
    EXPECT_GT(scale, 0);
    EXPECT_LE(diff, 1e-5 * scale + 1e-8) << kWeights[i];
    p.requires_grad_(false);
    p.mutable_grad() = at::Tensor();
  }
}

TEST(MendNetwork, IdentityInitialisedUpdateIsTheScaledGradient) {
  EditTestModel m;
  auto& tm = m.model();
  const auto h = small_hparams();
  const auto net = make_mend_network(tm, h, 7);
  const auto request = testing::test_requests(2)[1];
  const auto factors = capture_factors(tm, kWeights, batch_of(tm, {request}));
  std::vector<at::Tensor> before;
  for (const auto& w : kWeights) before.push_back(tm.model().weight(w).clone());
  const auto ups = mend_updates(tm, net, {request});
  apply_mend(tm, net, {request});
  for (size_t i = 0; i < kWeights.size(); ++i) {
    const auto grad = at::matmul(factors[i].delta.t(), factors[i].u);
    EXPECT_TRUE(at::allclose(ups[i], h.edit_lr * grad, 1e-5, 1e-9)) << kWeights[i];
    // apply_mend changes the weight by exactly -dW.
    EXPECT_TRUE(at::allclose(tm.model().weight(kWeights[i]), before[i] - ups[i], 1e-6, 1e-7)) << kWeights[i];
  }
}

TEST(MendEditorFile, RoundTripGivesIdenticalUpdates) {
  EditTestModel m;
  auto& tm = m.model();
  const auto h = small_hparams();
  auto net = make_mend_network(tm, h, 3);
  MendTrainOptions o;
  o.steps = 3;  // non-trivial layers, statistics and alphas
  train_mend(tm, net, requests_with_prompts(6), h, o);
  const fs::path dir = m.dir.path() / "editor";
  write_mend_editor(dir, tm, net, h, {{"note", "test"}});
  const auto read = read_mend_editor(dir, tm);
  EXPECT_EQ(read.network.weights(), net.weights());
  EXPECT_EQ(read.config["training"]["note"], "test");
  const auto request = testing::test_requests(5)[4];
  const auto a = mend_updates(tm, net, {request});
  const auto b = mend_updates(tm, read.network, {request});
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(at::equal(a[i], b[i])) << kWeights[i];
    // Trained: no longer the scaled gradient.
    EXPECT_GT(a[i].abs().max().item<double>(), 0);
  }
}

TEST(MendEditorFile, RejectsBadDirectories) {
  EditTestModel m;
  auto& tm = m.model();
  const auto h = small_hparams();
  const auto net = make_mend_network(tm, h, 3);
  const fs::path dir = m.dir.path() / "editor";
  EXPECT_THROW(read_mend_editor(dir, tm), InputError);  // missing
  write_mend_editor(dir, tm, net, h, {});
  const auto config = dir / kMendConfigFile;
  std::stringstream buf;
  buf << std::ifstream(config).rdbuf();
  const auto good = nlohmann::json::parse(buf.str());
  const auto expect_bad = [&](const std::string& text, const std::string& needle) {
    std::ofstream(config, std::ios::trunc) << text;
    try {
      read_mend_editor(dir, tm);
      ADD_FAILURE() << "accepted: " << needle;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_bad("{", "valid JSON");
  auto j = good;
  j["format"] = "other";
  expect_bad(j.dump(), "format");
  j = good;
  j["version"] = 2;
  expect_bad(j.dump(), "version");
  j = good;
  j["hparams"]["inner_params"] = {"blocks.9.mlp.W_out"};
  expect_bad(j.dump(), "inner_params");
  j = good;
  j["hparams"]["rank"] = 16;  // the tensors were written with rank 8
  expect_bad(j.dump(), "shape");
  // A tensor missing from the safetensors file.
  std::ofstream(config, std::ios::trunc) << good.dump();
  harness::write_safetensors(dir / kMendWeightsFile, {{"alphas", at::zeros({4})}});
  try {
    read_mend_editor(dir, tm);
    ADD_FAILURE() << "accepted a file without the network's tensors";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("missing"), std::string::npos) << e.what();
  }
}

// A few steps on the committed fixture (training split: cases 100..; the
// first 100 are the evaluation cases of the targets test) lower the loss on
// the requests trained on.
TEST(MendFixture, ShortTrainingLowersTheLoss) {
  const auto dir = testing::fixture_dir();
  if (!dir) GTEST_SKIP() << "no fixture model";
  auto tm = harness::TextModel::load(*dir);
  auto all = load_counterfact_requests(*dir / "requests" / "edits.counterfact.json");
  const std::vector<EditRequest> train(all.begin() + 100, all.begin() + 116);
  auto h = parse_mend_hparams(nlohmann::json::parse(R"({"inner_params": ["blocks.0.mlp.W_in", "blocks.0.mlp.W_out"],
      "rank": 32, "edit_lr": 1e-3, "lr": 1e-3, "lr_lr": 1e-3, "batch_size": 4, "n_loc": 4})"), "test");
  auto net = make_mend_network(tm, h, 0);
  const auto t0 = std::chrono::steady_clock::now();
  const auto before = mend_loss(tm, net, train, h);
  MendTrainOptions o;
  o.steps = 40;
  const auto r = train_mend(tm, net, train, h, o);
  const auto after = mend_loss(tm, net, train, h);
  std::cout << "MEND fixture: loss " << before.loss << " (edit NLL " << before.edit << ", KL " << before.loc << ") -> "
            << after.loss << " (edit NLL " << after.edit << ", KL " << after.loc << ") after " << r.steps << " steps in "
            << r.seconds << " s; total "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s\n";
  EXPECT_LT(after.loss, 0.9 * before.loss);
}

}  // namespace
}  // namespace editgate::editors
