// run_edit + manifest + audit on a random-weight model: the manifest declares
// exactly what changed (name, norm, rank, sha256), the saved checkpoint passes
// the audit, and the audit fails for an undeclared change, an exceeded rank, a
// tampered tensor, another base, or a missing manifest. Manifest parsing
// rejects malformed files.

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "editors/audit.h"
#include "editors/edit_runner.h"
#include "harness/checkpoint.h"
#include "harness/input_error.h"
#include "harness/weight_store.h"
#include "tests/editors/edit_test_model.h"

namespace editgate::editors {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::EditTestModel;

EditJob rome_job(int n) {
  EditJob job;
  job.method = "rome";
  job.hparams = {{"layers", {0}}, {"v_num_grad_steps", 5}, {"mom2_adjustment", false},
                 {"context_template_length_params", {{3, 2}}}};
  job.hparams_source = "test";
  job.requests = testing::test_requests(n);
  job.requests_source = "requests.json";
  job.seed = 7;
  job.show_progress = false;
  return job;
}

// Edits a fresh model and saves it with its manifest under dir/edited.
EditManifest edit_and_save(EditTestModel& m, const EditJob& job, const fs::path& out) {
  auto man = run_edit(m.model(), job);
  harness::save_model(m.model().model(), out, m.ckpt, at::kFloat, {{kManifestFile, to_json(man).dump(2)}});
  return man;
}

// Rewrites dir's weights with `change` applied to tensor `name`.
void tamper(const fs::path& dir, const std::string& name, const std::function<at::Tensor(at::Tensor)>& change) {
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  {
    const auto store = harness::WeightStore::open_dir(dir);
    for (const auto& n : store.names()) {
      auto t = store.get(n).clone();
      tensors.emplace_back(n, n == name ? change(t) : t);
    }
  }
  harness::write_weights(dir, tensors);
}

void rewrite_manifest(const fs::path& dir, const std::function<void(json&)>& change) {
  std::ifstream in(dir / kManifestFile);
  json j = json::parse(in);
  change(j);
  std::ofstream(dir / kManifestFile) << j.dump(2);
}

TEST(EditRun, ManifestDeclaresWhatChanged) {
  EditTestModel m;
  testing::TempDir dir;
  const auto man = edit_and_save(m, rome_job(2), dir / "edited");
  EXPECT_EQ(man.method, "rome");
  EXPECT_EQ(man.seed, 7u);
  EXPECT_EQ(man.context_templates.size(), 3u);
  EXPECT_EQ(man.requests.size(), 2u);
  EXPECT_EQ(man.per_request.size(), 2u);
  EXPECT_TRUE(man.statistics.empty());  // mom2_adjustment false: no C, recorded in hparams
  EXPECT_EQ(man.hparams["mom2_adjustment"], false);
  ASSERT_EQ(man.tensors.size(), 1u);
  const auto& t = man.tensors[0];
  EXPECT_EQ(t.name, "transformer.h.0.mlp.c_proj.weight");
  EXPECT_EQ(t.stable_name, "blocks.0.mlp.W_out");
  EXPECT_EQ(t.delta.rank, 2);  // two sequential rank-one edits
  EXPECT_GT(t.delta.frobenius, 0);
  const auto store = harness::WeightStore::open_dir(dir / "edited");
  EXPECT_EQ(man.edited_weights_sha256, store.sha256());
  EXPECT_EQ(t.sha256_after, tensor_sha256(store.get(t.name)));
  EXPECT_EQ(man.base_weights_sha256, harness::WeightStore::open_dir(m.ckpt).sha256());
  for (const char* phase : {"keys", "values", "update", "edit_total", "context_templates"}) {
    EXPECT_TRUE(man.phase_seconds.count(phase)) << phase;
  }
  // The manifest file round-trips.
  const auto back = load_manifest(dir / "edited" / kManifestFile);
  EXPECT_EQ(back.tensors[0].delta.rank, 2);
  EXPECT_EQ(back.context_templates, man.context_templates);
  EXPECT_EQ(back.requests[1].subject, man.requests[1].subject);
}

// The ridge on C: none unless mom2_ridge says so (the reference adds none), and
// the manifest records, per statistic, the ridge the method added (MEMIT's solve
// honours it; AlphaEdit's projector reads C itself, so 0 there).
TEST(EditRun, ManifestRecordsTheRidgeOnC) {
  for (const char* method : {"rome", "memit", "alphaedit"}) {
    for (const double ridge : {-1.0, 1e-3}) {  // -1: the field left out
      EditTestModel m;
      auto job = rome_job(1);
      job.method = method;
      job.hparams = {{"layers", {0}}, {"v_num_grad_steps", 2}, {"context_template_length_params", {{3, 1}}}};
      if (ridge >= 0) job.hparams["mom2_ridge"] = ridge;
      job.corpus = TextCorpus::from_documents("t", testing::test_corpus_documents(30));
      const auto man = run_edit(m.model(), job);
      const double expected = ridge < 0 || job.method == "alphaedit" ? 0.0 : ridge;
      EXPECT_EQ(man.hparams["mom2_ridge"].get<double>(), ridge < 0 ? 0.0 : ridge) << method;
      ASSERT_EQ(man.statistics.size(), 1u) << method;
      EXPECT_EQ(man.statistics[0]["ridge"].get<double>(), expected) << method;
      const double absolute = man.statistics[0]["ridge_absolute"].get<double>();
      EXPECT_EQ(absolute > 0, expected > 0) << method << " " << absolute;
    }
  }
}

TEST(EditRun, SequentialRecordsEveryRound) {
  for (const char* method : {"rome", "alphaedit"}) {
    EditTestModel m;
    auto job = rome_job(5);
    job.method = method;
    if (job.method == "alphaedit") {
      job.hparams = {{"layers", {0}}, {"v_num_grad_steps", 3}, {"context_template_length_params", {{3, 1}}}};
      job.corpus = TextCorpus::from_documents("t", testing::test_corpus_documents(30));
      auto no_c = job;
      no_c.hparams["mom2_adjustment"] = false;
      EXPECT_THROW(run_edit(m.model(), no_c), InputError);
    }
    job.batch_size = 2;
    job.preservation_prompts = {"mi ra lives in the", "te su was born in the", "no vi lives in the"};
    const auto man = run_edit(m.model(), job);
    ASSERT_TRUE(man.extra.contains("sequential")) << method;
    const auto& rounds = man.extra["sequential"];
    ASSERT_EQ(rounds.size(), 3u) << method;
    EXPECT_EQ(rounds[0]["edits"], 2);
    EXPECT_EQ(rounds[2]["edits"], 5);
    EXPECT_EQ(rounds[2]["preservation_n"], 3);
    EXPECT_EQ(man.per_request.size(), 5u);
    EXPECT_TRUE(man.phase_seconds.count("sequential_eval"));
  }
}

TEST(EditRun, RejectsBadRequestsNamingTheCase) {
  EditTestModel m;
  auto job = rome_job(1);
  job.requests[0].case_id = "c9";
  job.requests[0].target_new = "<notaword>";  // the word-level tokenizer maps it to <unk>: still a token
  EXPECT_NO_THROW(validate_requests(m.model(), job.requests, "r.json"));
  job.requests[0].target_new = "";
  try {
    run_edit(m.model(), job);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.path(), "requests.json");
    EXPECT_NE(e.field().find("case_id c9"), std::string::npos) << e.what();
  }
  job = rome_job(1);
  job.method = "mend";
  EXPECT_THROW(run_edit(m.model(), job), InputError);
  job = rome_job(1);
  job.layers = std::vector<int64_t>{5};
  EXPECT_THROW(run_edit(m.model(), job), InputError);
  job = rome_job(1);
  job.hparams["mom2_adjustment"] = true;  // needs a corpus
  EXPECT_THROW(run_edit(m.model(), job), InputError);
}

TEST(Audit, PassesAnHonestEdit) {
  EditTestModel m;
  testing::TempDir dir;
  edit_and_save(m, rome_job(1), dir / "edited");
  const auto r = audit_checkpoints(m.ckpt, dir / "edited");
  EXPECT_TRUE(r.pass()) << to_json(r).dump(2);
  ASSERT_EQ(r.changed.size(), 1u);
  EXPECT_EQ(r.changed[0].measured.rank, 1);
  EXPECT_TRUE(r.changed[0].declared);
  EXPECT_TRUE(r.changed[0].sha256_matches);
}

TEST(Audit, FailsOnUndeclaredChange) {
  EditTestModel m;
  testing::TempDir dir;
  edit_and_save(m, rome_job(1), dir / "edited");
  tamper(dir / "edited", "transformer.h.1.mlp.c_proj.weight", [](at::Tensor t) { return t + 1e-3; });
  const auto r = audit_checkpoints(m.ckpt, dir / "edited");
  EXPECT_FALSE(r.pass());
  EXPECT_EQ(r.changed.size(), 2u);
  const auto text = to_json(r).dump();
  EXPECT_NE(text.find("transformer.h.1.mlp.c_proj.weight' changed"), std::string::npos) << text;
}

TEST(Audit, FailsWhenRankExceedsTheDeclaration) {
  EditTestModel m;
  testing::TempDir dir;
  edit_and_save(m, rome_job(2), dir / "edited");
  rewrite_manifest(dir / "edited", [](json& j) {
    j["changed_tensors"][0]["numerical_rank"] = 1;
    j["changed_tensors"][0]["sha256_after"] = "";  // only the rank claim is wrong
  });
  const auto r = audit_checkpoints(m.ckpt, dir / "edited");
  ASSERT_EQ(r.problems.size(), 1u) << to_json(r).dump(2);
  EXPECT_NE(r.problems[0].find("measured rank 2 exceeds the declared rank 1"), std::string::npos);
}

TEST(Audit, FailsOnTamperedTensorOtherBaseOrNoManifest) {
  EditTestModel m;
  testing::TempDir dir;
  const auto man = edit_and_save(m, rome_job(1), dir / "edited");
  // Same tensor, other bytes: the sha256 claim fails.
  tamper(dir / "edited", man.tensors[0].name, [](at::Tensor t) { return t * 1.0001; });
  auto r = audit_checkpoints(m.ckpt, dir / "edited");
  EXPECT_FALSE(r.pass());
  EXPECT_FALSE(r.changed[0].sha256_matches);
  // Another base.
  EditTestModel other("gpt2", 5);
  r = audit_checkpoints(other.ckpt, dir / "edited");
  EXPECT_FALSE(r.pass());
  EXPECT_NE(to_json(r).dump().find("edited from another base"), std::string::npos);
  // No manifest: the change is undeclared.
  fs::remove(dir / "edited" / kManifestFile);
  r = audit_checkpoints(m.ckpt, dir / "edited");
  EXPECT_FALSE(r.manifest_found);
  EXPECT_FALSE(r.pass());
  // Identical checkpoints without a manifest have nothing to declare... but the manifest is still missing.
  EXPECT_FALSE(audit_checkpoints(m.ckpt, m.ckpt).pass());
}

TEST(Manifest, RejectsMalformedFiles) {
  auto good = json::parse(to_json(EditManifest{}).dump());
  good["format"] = kManifestFormat;
  good["method"] = "rome";
  EXPECT_NO_THROW(parse_manifest(good, "m.json"));
  auto expect_field = [&](const std::function<void(json&)>& change, const std::string& field) {
    auto j = good;
    change(j);
    try {
      parse_manifest(j, "m.json");
      ADD_FAILURE() << j.dump();
    } catch (const InputError& e) {
      EXPECT_EQ(e.field(), field) << e.what();
    }
  };
  expect_field([](json& j) { j["format"] = "other"; }, "format");
  expect_field([](json& j) { j["version"] = 2; }, "version");
  expect_field([](json& j) { j.erase("method"); }, "method");
  expect_field([](json& j) { j["base"] = 3; }, "base");
  expect_field([](json& j) { j.erase("changed_tensors"); }, "changed_tensors");
  expect_field([](json& j) { j["changed_tensors"] = json::array({{{"name", "x"}}}); }, "numerical_rank");
  expect_field([](json& j) { j["changed_tensors"] = json::array({{{"name", "x"}, {"numerical_rank", "one"}}}); },
               "numerical_rank");
  EXPECT_THROW(parse_manifest(json::array(), "m.json"), InputError);
}

TEST(WeightDelta, RankRuleIgnoresStorageRounding) {
  at::manual_seed(3);
  const auto base = at::randn({40, 60});
  const auto rank1 = at::outer(at::randn({40}), at::randn({60})) * 1e-3;
  const auto s = analyze_delta(base, base + rank1);  // rounded to float32 on the add
  EXPECT_EQ(s.rank, 1);
  EXPECT_GT(s.tolerance, 0);
  EXPECT_EQ(analyze_delta(base, base).rank, 0);
  EXPECT_EQ(analyze_delta(base, base + at::randn({40, 60}) * 1e-2).rank, 40);
  const auto b16 = base.to(at::kBFloat16);
  EXPECT_EQ(analyze_delta(b16, (base + rank1 * 100).to(at::kBFloat16)).rank, 1);
  EXPECT_EQ(analyze_delta(at::zeros({5}), at::ones({5})).rank, 1);
}

}  // namespace
}  // namespace editgate::editors
