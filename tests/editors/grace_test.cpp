// GRACE invariants on a random-weight GPT-2: an edit prompt retrieves its
// value (the layer's output there is the trained value and the target becomes
// top-1), a key far from every entry changes nothing bit for bit, a
// conflicting label halves the radii and a same label grows them, removing
// the entries restores the base outputs exactly, and an edited checkpoint
// (base weights + codebook file named by the manifest) loads with the adapter
// installed and passes the audit with no changed tensor. Codebook files with
// bad metadata or shapes are rejected.

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <memory>

#include "editors/audit.h"
#include "editors/context_templates.h"
#include "editors/edit_runner.h"
#include "editors/grace.h"
#include "harness/input_error.h"
#include "harness/safetensors_writer.h"
#include "harness/scoring.h"
#include "tests/editors/edit_test_model.h"

namespace editgate::editors {
namespace {

namespace fs = std::filesystem;
using harness::Codebook;
using harness::HookSite;
using testing::EditTestModel;

GraceHparams small_hparams(double eps) {
  GraceHparams h;
  h.layer = 1;  // the last of 2: the value acts on the logits directly
  h.eps = eps;
  h.num_steps = 60;
  h.lr = 0.5;
  h.early_stop_loss = 0.01;
  return h;
}

// Logits at every position of each prompt, one pass per prompt (no padding).
std::vector<at::Tensor> logits_of(harness::TextModel& tm, const std::vector<std::string>& prompts) {
  c10::NoGradGuard ng;
  std::vector<at::Tensor> out;
  for (const auto& p : prompts) {
    out.push_back(tm.model().forward(at::tensor(tm.encode_prompt(p), at::kLong).unsqueeze(0).to(tm.model().device())).cpu());
  }
  return out;
}

// The layer's input (key) at the prompt's last token.
at::Tensor key_of(harness::TextModel& tm, const std::string& prompt, int64_t layer) {
  c10::NoGradGuard ng;
  auto key = std::make_shared<at::Tensor>();
  auto h = tm.model().hooks().add({layer, HookSite::kMlpPost}, harness::cache_into(key));
  const auto ids = tm.encode_prompt(prompt);
  tm.model().forward(at::tensor(ids, at::kLong).unsqueeze(0).to(tm.model().device()));
  return (*key)[0][static_cast<int64_t>(ids.size()) - 1].to(at::kCPU, at::kFloat);
}

int64_t top1(harness::TextModel& tm, const std::string& prompt) {
  return logits_of(tm, {prompt})[0][0][-1].argmax().item<int64_t>();
}

TEST(Grace, EditPromptRetrievesItsValue) {
  EditTestModel m;
  const auto reqs = testing::test_requests(1);
  const auto h = small_hparams(1.0);
  auto cb = Codebook::empty(m.model().model().config(), h.layer);
  const auto res = apply_grace(m.model(), reqs, h, cb);
  ASSERT_EQ(res.size(), 1u);
  EXPECT_EQ(res[0].action, "added");
  ASSERT_EQ(cb.size(), 1);
  EXPECT_LT(res[0].nll, h.early_stop_loss);
  ASSERT_NE(m.model().codebook(), nullptr);
  // The key at the prompt's last token hits entry 0 ...
  const auto key = key_of(m.model(), reqs[0].filled_prompt(), h.layer);
  EXPECT_EQ(harness::codebook_hits(cb, key.unsqueeze(0))[0].item<int64_t>(), 0);
  // ... the layer's output there is the trained value, and the target is top-1.
  auto out = std::make_shared<at::Tensor>();
  {
    auto hook = m.model().model().hooks().add({h.layer, HookSite::kMlpOut}, harness::cache_into(out));
    logits_of(m.model(), {reqs[0].filled_prompt()});
  }
  EXPECT_TRUE(at::allclose((*out)[0][-1].cpu(), cb.values[0]));
  const auto target = encode_target(m.model(), reqs[0].target_new, "0", "target");
  EXPECT_EQ(top1(m.model(), reqs[0].filled_prompt()), target[0]);
}

TEST(Grace, FarKeyChangesNothing) {
  EditTestModel m;
  const auto reqs = testing::test_requests(1);
  const std::string other = "mi su lives in the";
  const auto base = logits_of(m.model(), {other})[0];
  const auto h = small_hparams(1e-3);  // a ball only around the edit's own key
  auto cb = Codebook::empty(m.model().model().config(), h.layer);
  apply_grace(m.model(), reqs, h, cb);
  const auto key = key_of(m.model(), other, h.layer);
  const double d = (key - cb.keys[0]).norm().item<double>();
  ASSERT_GT(d, cb.radii[0].item<double>());
  EXPECT_EQ(harness::codebook_hits(cb, key.unsqueeze(0))[0].item<int64_t>(), -1);
  EXPECT_TRUE(at::equal(logits_of(m.model(), {other})[0], base));  // bit for bit
  EXPECT_NE(top1(m.model(), reqs[0].filled_prompt()), -1);
}

TEST(Grace, ConflictHalvesRadiiAndSameLabelGrowsThem) {
  EditTestModel m;
  auto reqs = testing::test_requests(3);
  reqs[1].target_new = "south";  // a different label from reqs[0]'s "north"
  reqs[2].target_new = reqs[0].target_new;
  const auto h = small_hparams(1e6);  // every key within reach of every other
  auto cb = Codebook::empty(m.model().model().config(), h.layer);
  auto res = apply_grace(m.model(), {reqs[0], reqs[1]}, h, cb);
  ASSERT_EQ(cb.size(), 2);
  EXPECT_EQ(res[1].action, "split");
  const double d01 = (cb.keys[0] - cb.keys[1]).norm().item<double>();
  EXPECT_NEAR(res[1].distance, d01, 1e-4 * d01);
  EXPECT_NEAR(cb.radii[0].item<double>(), d01 / 2 - 1e-5, 1e-4 * d01);
  EXPECT_NEAR(cb.radii[1].item<double>(), d01 / 2, 1e-4 * d01);
  // After the split, the balls do not overlap: each edit still retrieves its own value.
  for (int i = 0; i < 2; ++i) {
    const auto key = key_of(m.model(), reqs[static_cast<size_t>(i)].filled_prompt(), h.layer);
    EXPECT_EQ(harness::codebook_hits(cb, key.unsqueeze(0))[0].item<int64_t>(), i);
  }
  // The same label as its nearest key: no new key; that key's radius covers it.
  const auto key2 = key_of(m.model(), reqs[2].filled_prompt(), h.layer);
  const auto nearest = (cb.keys - key2.unsqueeze(0)).norm(2, {1}).argmin().item<int64_t>();
  res = apply_grace(m.model(), {reqs[2]}, h, cb);
  if (cb.labels[static_cast<size_t>(nearest)] == reqs[2].target_new) {
    EXPECT_EQ(cb.size(), 2);
    EXPECT_EQ(res[0].entry, nearest);
    EXPECT_GE(cb.radii[nearest].item<double>() + 1e-6, res[0].distance);
    EXPECT_EQ(cb.case_ids[static_cast<size_t>(nearest)].size(), 2u);
  } else {
    EXPECT_EQ(res[0].action, "split");  // nearest is the other label: a conflict again
    EXPECT_EQ(cb.size(), 3);
  }
}

TEST(Grace, RemovingEntriesRestoresBaseOutputsExactly) {
  EditTestModel m;
  const auto reqs = testing::test_requests(2);
  std::vector<std::string> prompts = {reqs[0].filled_prompt(), reqs[1].filled_prompt(), "ka lo lives in the"};
  const auto base = logits_of(m.model(), prompts);
  const auto h = small_hparams(1.0);
  auto cb = Codebook::empty(m.model().model().config(), h.layer);
  apply_grace(m.model(), reqs, h, cb);
  ASSERT_EQ(cb.size(), 2);
  const auto edited = logits_of(m.model(), prompts);
  EXPECT_FALSE(at::equal(edited[0], base[0]));
  EXPECT_EQ(remove_grace_edit(cb, "0"), 1);
  EXPECT_EQ(remove_grace_edit(cb, "0"), 0);
  ASSERT_EQ(cb.size(), 1);
  EXPECT_EQ(cb.case_ids[0], std::vector<std::string>{"1"});
  m.model().install_codebook(cb);
  auto now = logits_of(m.model(), prompts);
  EXPECT_TRUE(at::equal(now[1], edited[1]));  // the other edit is untouched
  EXPECT_EQ(remove_grace_edit(cb, "1"), 1);
  m.model().install_codebook(cb);
  EXPECT_EQ(m.model().codebook(), nullptr);
  now = logits_of(m.model(), prompts);
  for (size_t i = 0; i < prompts.size(); ++i) EXPECT_TRUE(at::equal(now[i], base[i])) << prompts[i];
}

TEST(Grace, EditedCheckpointLoadsAdapterAndAuditsClean) {
  EditTestModel m;
  EditJob job;
  job.method = "grace";
  job.hparams = {{"layers", {1}}, {"eps", 1.0}, {"n_iter", 40}, {"edit_lr", 0.5}};
  job.hparams_source = "test";
  job.requests = testing::test_requests(3);
  job.requests_source = "requests.json";
  job.show_progress = false;
  auto man = run_edit(m.model(), job);
  EXPECT_TRUE(man.tensors.empty());
  EXPECT_EQ(man.edited_weights_sha256, man.base_weights_sha256);
  const auto out = m.dir / "edited";
  save_edited_checkpoint(m.model(), man, out);
  ASSERT_TRUE(fs::exists(out / harness::kCodebookFile));
  const auto prompts = std::vector<std::string>{job.requests[0].filled_prompt(), "ka lo lives in the"};
  const auto in_memory = logits_of(m.model(), prompts);
  auto loaded = harness::TextModel::load(out);
  ASSERT_NE(loaded.codebook(), nullptr);
  EXPECT_EQ(loaded.codebook()->size(), m.model().codebook()->size());
  const auto from_disk = logits_of(loaded, prompts);
  for (size_t i = 0; i < prompts.size(); ++i) EXPECT_TRUE(at::allclose(from_disk[i], in_memory[i], 1e-5, 1e-6));

  auto r = audit_checkpoints(m.ckpt, out);
  EXPECT_TRUE(r.pass()) << (r.problems.empty() ? "" : r.problems[0]);
  EXPECT_TRUE(r.changed.empty());
  EXPECT_EQ(r.adapter["entries"].get<int64_t>(), m.model().codebook()->size());
  EXPECT_TRUE(r.adapter["sha256_matches"].get<bool>());

  // A codebook changed after the edit fails the audit.
  auto cb = *loaded.codebook();
  cb.radii = cb.radii * 2;
  harness::write_codebook(out / harness::kCodebookFile, cb);
  r = audit_checkpoints(m.ckpt, out);
  EXPECT_FALSE(r.pass());
}

TEST(Grace, RejectsMalformedCodebooks) {
  EditTestModel m;
  const auto& config = m.model().model().config();
  const auto path = m.dir / "cb.safetensors";
  auto cb = Codebook::empty(config, 1);
  cb.keys = at::zeros({1, config.d_mlp});
  cb.values = at::zeros({1, config.d_model});
  cb.radii = at::ones({1});
  cb.labels = {"north"};
  cb.case_ids = {{"0"}};
  harness::write_codebook(path, cb);
  EXPECT_EQ(harness::read_codebook(path, config).size(), 1);

  const auto expect_field = [&](const std::string& field) {
    try {
      harness::read_codebook(path, config);
      ADD_FAILURE() << "accepted a codebook with a bad " << field;
    } catch (const InputError& e) {
      EXPECT_NE(e.field().find(field), std::string::npos) << e.what();
    }
  };
  auto wrong = cb;
  wrong.keys = at::zeros({1, config.d_mlp + 1});
  harness::write_codebook(path, wrong);
  expect_field("keys");
  wrong = cb;
  wrong.layer = 7;
  harness::write_codebook(path, wrong);
  expect_field("layer");
  harness::write_safetensors(path, {{"keys", cb.keys}, {"values", cb.values}, {"radii", cb.radii}},
                             {{"format", "something.else"}});
  expect_field("format");
  harness::write_safetensors(path, {{"keys", cb.keys}, {"values", cb.values}, {"radii", cb.radii}},
                             {{"format", harness::kCodebookFormat}, {"version", "1"}, {"layer", "1"},
                              {"labels", "[\"a\", \"b\"]"}, {"case_ids", "[[\"0\"]]"}});
  expect_field("labels");
}

TEST(Grace, HparamsRejectUnknownChoices) {
  EXPECT_THROW(parse_grace_hparams({{"layers", {0, 1}}}, "g.json"), InputError);
  EXPECT_THROW(parse_grace_hparams({{"val_init", "hot"}}, "g.json"), InputError);
  EXPECT_THROW(parse_grace_hparams({{"replacement", "replace_last"}}, "g.json"), InputError);
  EXPECT_THROW(parse_grace_hparams({{"epsilon", 1.0}}, "g.json"), InputError);
  EXPECT_EQ(parse_grace_hparams({{"layers", {2}}, {"eps", 3.0}}, "g.json").eps, 3.0);
}

}  // namespace
}  // namespace editgate::editors
