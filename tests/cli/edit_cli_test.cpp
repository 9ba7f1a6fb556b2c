// `editgate edit` and `editgate audit` as a user runs them: exit 0 and a
// checkpoint with its manifest that passes the audit; exit 2 with one line
// naming the file and case for a bad request; exit 1 from audit for an
// undeclared change. Runs the editgate binary of this build tree; skips when
// it has not been built.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <tuple>
#include <vector>

#include "tests/editors/random_text_model.h"
#include "tests/harness/tiny_checkpoint.h"

namespace editgate::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct CliResult {
  int code = -1;
  std::string out;
  std::string err;
};

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class EditCli : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(EDITGATE_CLI)) << "no " << EDITGATE_CLI << " (editors_tests depends on the editgate target)";
    write_random_text_model(dir_ / "base", "gpt2");
    std::ofstream(dir_ / "hparams.json") << json{{"layers", {0}}, {"v_num_grad_steps", 4}, {"mom2_adjustment", false},
                                                {"context_template_length_params", {{3, 2}}}}
                                                .dump();
    write_requests("requests.json", {request(0, "{} was born in the", "ka lo", "north")});
  }

  static json request(int id, const std::string& prompt, const std::string& subject, const std::string& target) {
    return {{"case_id", id},
            {"requested_rewrite",
             {{"prompt", prompt}, {"subject", subject}, {"target_new", {{"str", target}}}, {"target_true", {{"str", "south"}}}}}};
  }
  void write_requests(const std::string& name, const json& records) { std::ofstream(dir_ / name) << records.dump(); }
  std::string p(const std::string& name) const { return "'" + (dir_ / name).string() + "'"; }

  CliResult run_cli(const std::string& args) {
    const std::string cmd = std::string("OMP_NUM_THREADS=1 EDITGATE_DEVICE=cpu '") + EDITGATE_CLI + "' " + args + " >'" +
                            (dir_ / "stdout").string() + "' 2>'" + (dir_ / "stderr").string() + "'";
    const int status = std::system(cmd.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_text(dir_ / "stdout"), read_text(dir_ / "stderr")};
  }
  std::string edit_args(const std::string& requests, const std::string& out) const {
    return "edit --model " + p("base") + " --method rome --requests " + p(requests) + " --hparams " + p("hparams.json") +
           " --no-stats-cache --out " + p(out);
  }
  void expect_bad_input(const CliResult& r, const std::string& needle) {
    EXPECT_EQ(r.code, 2) << r.err;
    EXPECT_EQ(r.err.rfind("editgate: error: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  }
  TempDir dir_;
};

TEST_F(EditCli, EditThenAuditPasses) {
  const auto e = run_cli(edit_args("requests.json", "edited") + " --json");
  ASSERT_EQ(e.code, 0) << e.err;
  const auto manifest = json::parse(e.out);
  EXPECT_EQ(manifest["method"], "rome");
  EXPECT_EQ(manifest["changed_tensors"].size(), 1u);
  EXPECT_TRUE(fs::exists(dir_ / "edited" / "edit_manifest.json"));
  EXPECT_TRUE(fs::exists(dir_ / "edited" / "tokenizer.json"));
  const auto a = run_cli("audit --base " + p("base") + " --edited " + p("edited") + " --json");
  EXPECT_EQ(a.code, 0) << a.out << a.err;
  EXPECT_EQ(json::parse(a.out)["verdict"], "pass");
}

TEST_F(EditCli, AuditExitsOneForAnUndeclaredChange) {
  ASSERT_EQ(run_cli(edit_args("requests.json", "edited")).code, 0);
  fs::remove(dir_ / "edited" / "edit_manifest.json");
  const auto a = run_cli("audit --base " + p("base") + " --edited " + p("edited"));
  EXPECT_EQ(a.code, 1) << a.out << a.err;
  EXPECT_NE(a.out.find("does not declare it"), std::string::npos) << a.out;
}

TEST_F(EditCli, BadRequestsExitTwoNamingTheCase) {
  write_requests("bad.json", {request(0, "{} was born in the", "ka lo", "north"),
                              request(3, "ka lo was born in the", "ka lo", "north")});
  expect_bad_input(run_cli(edit_args("bad.json", "out")), "case_id 3: requested_rewrite.prompt");
  EXPECT_FALSE(fs::exists(dir_ / "out"));
  write_requests("empty_target.json", {request(5, "{} was born in the", "ka lo", " ")});
  expect_bad_input(run_cli(edit_args("empty_target.json", "out")), "case_id 5");
  write_requests("not_json.json", json("x"));
  expect_bad_input(run_cli(edit_args("not_json.json", "out")), "not_json.json");
}

TEST_F(EditCli, MissingCorpusOrHparamsExitTwo) {
  std::ofstream(dir_ / "with_c.json") << json{{"layers", {0}}, {"mom2_adjustment", true}}.dump();
  expect_bad_input(run_cli("edit --model " + p("base") + " --method rome --requests " + p("requests.json") +
                           " --hparams " + p("with_c.json") + " --out " + p("out")),
                   "--corpus");
  expect_bad_input(run_cli("edit --model " + p("base") + " --method rome --requests " + p("requests.json") +
                           " --out " + p("out")),
                   "--hparams");
  std::ofstream(dir_ / "typo.json") << json{{"layers", {0}}, {"v_lrr", 1}}.dump();
  expect_bad_input(run_cli("edit --model " + p("base") + " --method rome --requests " + p("requests.json") +
                           " --hparams " + p("typo.json") + " --out " + p("out")),
                   "v_lrr");
  expect_bad_input(run_cli(edit_args("requests.json", "out") + " --layers 9"), "layers");
}

// GRACE through the CLI: no tensor changes, a codebook the audit counts, and a
// tampered codebook fails the audit.
TEST_F(EditCli, GraceEditWritesACodebookTheAuditCounts) {
  std::ofstream(dir_ / "grace.json") << json{{"layers", {1}}, {"eps", 1.0}, {"n_iter", 20}, {"edit_lr", 0.5}}.dump();
  const auto e = run_cli("edit --model " + p("base") + " --method grace --requests " + p("requests.json") +
                         " --hparams " + p("grace.json") + " --out " + p("graced") + " --json");
  ASSERT_EQ(e.code, 0) << e.err;
  const auto manifest = json::parse(e.out);
  EXPECT_EQ(manifest["changed_tensors"].size(), 0u);
  EXPECT_EQ(manifest["adapter"]["entries"], 1);
  EXPECT_TRUE(fs::exists(dir_ / "graced" / "grace_codebook.safetensors"));
  auto a = run_cli("audit --base " + p("base") + " --edited " + p("graced") + " --json");
  EXPECT_EQ(a.code, 0) << a.out << a.err;
  EXPECT_EQ(json::parse(a.out)["adapter"]["entries"], 1);
  EXPECT_EQ(json::parse(a.out)["changed_tensors"].size(), 0u);
  std::ofstream(dir_ / "graced" / "grace_codebook.safetensors", std::ios::app) << "x";
  a = run_cli("audit --base " + p("base") + " --edited " + p("graced") + " --json");
  EXPECT_NE(a.code, 0) << a.out;
}

// MEND through the CLI: `mend train` writes an editor, `edit --method mend`
// applies it (changed tensors declared, audit passes); a missing or bad
// --editor and bad training input exit 2 with one line naming the flag or file.
TEST_F(EditCli, MendTrainThenEditAndBadEditorsExitTwo) {
  std::ofstream(dir_ / "mend.json") << json{{"inner_params", {"blocks.1.mlp.W_in", "blocks.1.mlp.W_out"}}, {"rank", 4},
                                            {"edit_lr", 1e-2}, {"lr", 1e-3}, {"batch_size", 1}, {"n_loc", 0}}
                                            .dump();
  const std::string train = "mend train --model " + p("base") + " --requests " + p("requests.json") + " --hparams " +
                            p("mend.json") + " --steps 2 --out ";
  const auto t = run_cli(train + p("editor") + " --json");
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_EQ(json::parse(t.out)["steps"], 2);
  EXPECT_TRUE(fs::exists(dir_ / "editor" / "mend.safetensors"));
  const std::string edit = "edit --model " + p("base") + " --method mend --requests " + p("requests.json") + " --out ";
  const auto e = run_cli(edit + p("mended") + " --editor " + p("editor") + " --json");
  ASSERT_EQ(e.code, 0) << e.err;
  EXPECT_EQ(json::parse(e.out)["changed_tensors"].size(), 2u);
  const auto a = run_cli("audit --base " + p("base") + " --edited " + p("mended"));
  EXPECT_EQ(a.code, 0) << a.out << a.err;

  expect_bad_input(run_cli(edit + p("out")), "--editor");
  expect_bad_input(run_cli(edit + p("out") + " --editor " + p("nowhere")), "nowhere");
  fs::create_directories(dir_ / "empty_editor");
  expect_bad_input(run_cli(edit + p("out") + " --editor " + p("empty_editor")), "mend.json");
  std::ofstream(dir_ / "editor" / "mend.json", std::ios::trunc) << "{\"format\": \"editgate.mend\"}";
  expect_bad_input(run_cli(edit + p("out") + " --editor " + p("editor")), "version");
  EXPECT_FALSE(fs::exists(dir_ / "out"));
  std::ofstream(dir_ / "mend_typo.json") << json{{"rank", 0}}.dump();
  expect_bad_input(run_cli("mend train --model " + p("base") + " --requests " + p("requests.json") + " --hparams " +
                           p("mend_typo.json") + " --out " + p("editor2")),
                   "rank");
  EXPECT_FALSE(fs::exists(dir_ / "editor2"));
}

// `steer` writes a steered checkpoint; `debug` explains a prediction and writes its page.
TEST_F(EditCli, SteerAndDebugRun) {
  std::ofstream(dir_ / "pos.txt") << "ka lo was born in the\nmi ra lives in the\n";
  std::ofstream(dir_ / "neg.json") << json{"te su was born in the", "no vi lives in the"}.dump();
  const auto s = run_cli("steer --model " + p("base") + " --positive " + p("pos.txt") + " --negative " + p("neg.json") +
                         " --hook blocks.1.hook_resid_pre --scale 3 --out " + p("steered") + " --json");
  ASSERT_EQ(s.code, 0) << s.err;
  EXPECT_EQ(json::parse(s.out)["adapter"]["kind"], "steering_vector");
  const auto a = run_cli("audit --base " + p("base") + " --edited " + p("steered") + " --json");
  EXPECT_EQ(a.code, 0) << a.out << a.err;
  expect_bad_input(run_cli("steer --model " + p("base") + " --positive " + p("pos.txt") + " --negative " +
                           p("neg.json") + " --hook blocks.7.hook_resid_pre --out " + p("x")),
                   "--hook");
  const auto d = run_cli("debug --model " + p("steered") + " --prompt 'ka lo was born in the' --expected north "
                         "--subject 'ka lo' --samples 2 --html " + p("debug.html") + " --json");
  ASSERT_EQ(d.code, 0) << d.err;
  const auto j = json::parse(d.out);
  EXPECT_EQ(j["logit_lens"].size(), 2u);
  EXPECT_TRUE(j["integrated_gradients"]["complete"].get<bool>());
  EXPECT_NE(read_text(dir_ / "debug.html").find("<svg"), std::string::npos);
  expect_bad_input(run_cli("debug --model " + p("base") + " --prompt 'ka lo was born in the' --expected north "
                           "--subject 'zz'"),
                   "--subject");
}

// The editing and diagnosis commands on GPT-J, GPT-NeoX and Gemma 3 checkpoints:
// ROME and MEMIT change exactly the architecture's MLP output projections
// (fc_out, dense_4h_to_h, down_proj), the audit agrees and the gate runs; trace
// and debug run over every layer.
class EditCliArch : public EditCli, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    EditCli::SetUp();
    if (IsSkipped()) return;
    write_random_text_model(dir_ / "arch", GetParam());
    std::ofstream(dir_ / "memit.json") << json{{"layers", {0, 1}}, {"v_num_grad_steps", 4}, {"mom2_adjustment", false},
                                               {"context_template_length_params", {{3, 2}}}}
                                               .dump();
  }
  std::string w_out(int l) const {
    const auto n = std::to_string(l);
    if (GetParam() == "gptj") return "transformer.h." + n + ".mlp.fc_out.weight";
    if (GetParam() == "gpt_neox") return "gpt_neox.layers." + n + ".mlp.dense_4h_to_h.weight";
    return "model.layers." + n + ".mlp.down_proj.weight";
  }
};

TEST_P(EditCliArch, RomeAndMemitEditTheMlpOutputProjection) {
  for (const auto& [method, hparams, layers] : {std::tuple{"rome", "hparams.json", std::vector<int>{0}},
                                                std::tuple{"memit", "memit.json", std::vector<int>{0, 1}}}) {
    const std::string out = std::string(method) + "_edited";
    const auto e = run_cli("edit --model " + p("arch") + " --method " + method + " --requests " + p("requests.json") +
                           " --hparams " + p(hparams) + " --no-stats-cache --out " + p(out) + " --json");
    ASSERT_EQ(e.code, 0) << method << ": " << e.err;
    const auto changed = json::parse(e.out)["changed_tensors"];
    ASSERT_EQ(changed.size(), layers.size()) << method;
    for (size_t i = 0; i < layers.size(); ++i) {
      EXPECT_EQ(changed[i]["name"], w_out(layers[i])) << method;
      EXPECT_EQ(changed[i]["stable_name"], "blocks." + std::to_string(layers[i]) + ".mlp.W_out") << method;
    }
    const auto a = run_cli("audit --base " + p("arch") + " --edited " + p(out) + " --json");
    EXPECT_EQ(a.code, 0) << method << ": " << a.out << a.err;
    EXPECT_EQ(json::parse(a.out)["verdict"], "pass") << method;
  }
  // The gate runs on the pair; 1 is a failed gate (ROME on a random model need not take), not an error.
  write_requests("requests_list.json", json::array({request(0, "{} was born in the", "ka lo", "north")}));
  const auto g = run_cli("gate --base " + p("arch") + " --edited " + p("rome_edited") + " --requests " +
                         p("requests_list.json") + " --suites Efficacy,Audit --report-dir " + p("reports") + " --json");
  EXPECT_TRUE(g.code == 0 || g.code == 1) << g.err;
  EXPECT_NE(g.out.find("audit_problems"), std::string::npos) << g.out;
  EXPECT_TRUE(fs::exists(dir_ / "reports" / "report.json"));
}

TEST_P(EditCliArch, TraceAndDebugCoverEveryLayer) {
  const auto t = run_cli("trace --model " + p("arch") + " --prompt '{} was born in the' --subject 'ka lo' "
                         "--samples 2 --json");
  ASSERT_EQ(t.code, 0) << t.err;
  const auto tj = json::parse(t.out);
  ASSERT_FALSE(tj["mlp"].empty());
  EXPECT_EQ(tj["mlp"][0].size(), 2u);  // two layers
  const auto d = run_cli("debug --model " + p("arch") + " --prompt 'ka lo was born in the' --expected north "
                         "--subject 'ka lo' --samples 2 --json");
  ASSERT_EQ(d.code, 0) << d.err;
  const auto dj = json::parse(d.out);
  EXPECT_EQ(dj["logit_lens"].size(), 2u);
  // Gemma's path starts at an all-zero layer-0 input, where F jumps as the first
  // RMSNorm leaves its eps region: 64 midpoints do not resolve it and debug says
  // so (DebugAnalysis.GemmaBaselineRemovesTheScaledEmbeddings).
  if (GetParam() != "gemma3_text") {
    EXPECT_TRUE(dj["integrated_gradients"]["complete"].get<bool>());
  }
  EXPECT_TRUE(dj["integrated_gradients"]["complete"].is_boolean());
}

INSTANTIATE_TEST_SUITE_P(Archs, EditCliArch, ::testing::Values("gptj", "gpt_neox", "gemma3_text"), [](const auto& info) {
  return info.param == "gptj" ? std::string("Gptj") : info.param == "gpt_neox" ? std::string("GptNeox") : std::string("Gemma3");
});

// Outputs never destroy user data (issue 17): every writing command refuses,
// with exit 2 and one line naming the path and the way out, an output that is,
// contains or lies inside an input, and an existing non-empty directory (or
// file) editgate did not write; the user's files stay as they were. --force
// replaces an earlier editgate output of the same kind, and only that.
TEST_F(EditCli, WritingCommandsNeverReplaceWhatEditgateDidNotWrite) {
  const std::string base_config = read_text(dir_ / "base" / "config.json");
  fs::create_directories(dir_ / "base" / "requests");
  std::ofstream(dir_ / "base" / "requests" / "mine.json") << "[1]";
  fs::create_directories(dir_ / "user");
  std::ofstream(dir_ / "user" / "thesis.txt") << "four years";
  std::ofstream(dir_ / "data.safetensors") << "not even safetensors";
  std::ofstream(dir_ / "world.json") << "{}";
  const auto user_files_intact = [&](const std::string& what) {
    EXPECT_EQ(read_text(dir_ / "base" / "config.json"), base_config) << what;
    EXPECT_EQ(read_text(dir_ / "base" / "requests" / "mine.json"), "[1]") << what;
    EXPECT_EQ(read_text(dir_ / "user" / "thesis.txt"), "four years") << what;
    EXPECT_EQ(read_text(dir_ / "data.safetensors"), "not even safetensors") << what;
    EXPECT_EQ(read_text(dir_ / "world.json"), "{}") << what;
    EXPECT_EQ(std::distance(fs::directory_iterator(dir_ / "user"), fs::directory_iterator()), 1) << what;
  };
  const std::string rome = "edit --model " + p("base") + " --method rome --requests " + p("requests.json") +
                           " --hparams " + p("hparams.json") + " --no-stats-cache --out ";
  const std::string gate = "gate --base " + p("base") + " --edited " + p("base") + " --requests " + p("requests.json") +
                           " --report-dir ";
  // Each command with its output flag last, and an output that collides with one of its inputs.
  const std::vector<std::pair<std::string, std::string>> commands = {
      {rome, p("base")},                                                         // the model itself
      {rome, p("base/edited")},                                                  // inside the model
      {rome, "'" + dir_.path().string() + "'"},                                  // around the model
      {"erase --in " + p("data.safetensors") + " --out ", p("data.safetensors")},
      {"erase-model --model " + p("base") + " --dataset " + p("requests.json") + " --hook blocks.1.hook_resid_post --out ",
       p("base/eraser")},
      {gate, p("base/requests")},
      {"steer --model " + p("base") + " --positive " + p("requests.json") + " --negative " + p("requests.json") +
           " --hook blocks.1.hook_resid_pre --out ",
       p("base")},
      {"mend train --model " + p("base") + " --requests " + p("requests.json") + " --out ", p("base")},
      {"fixture build --world-config " + p("world.json") + " --out ", p("world.json")},
      {"demo --fixture " + p("base") + " --report-dir ", p("base/reports")},
  };
  for (const auto& [command, input_path] : commands) {
    expect_bad_input(run_cli(command + input_path + " --force"), "apart from every input");
    user_files_intact(command + input_path);
    // The user's own directory (or, for erase, their file): refused even with --force.
    const std::string user = command.starts_with("erase --in") ? p("user/thesis.txt") : p("user");
    expect_bad_input(run_cli(command + user + " --force"), "did not write");
    user_files_intact(command + user);
  }

  // An earlier editgate output of the same kind: replaced with --force only;
  // one of another kind (a MEND editor) is not a checkpoint, not even with --force.
  ASSERT_EQ(run_cli(rome + p("edited")).code, 0);
  expect_bad_input(run_cli(rome + p("edited")), "--force");
  const auto again = run_cli(rome + p("edited") + " --force");
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_TRUE(fs::exists(dir_ / "edited" / "edit_manifest.json"));
  fs::create_directories(dir_ / "empty");
  EXPECT_EQ(run_cli(rome + p("empty")).code, 0);  // an empty directory holds nothing to lose
  std::ofstream(dir_ / "mend.json") << json{{"inner_params", {"blocks.1.mlp.W_in", "blocks.1.mlp.W_out"}}, {"rank", 4},
                                            {"edit_lr", 1e-2}, {"lr", 1e-3}, {"batch_size", 1}, {"n_loc", 0}}
                                            .dump();
  const std::string train = "mend train --model " + p("base") + " --requests " + p("requests.json") + " --hparams " +
                            p("mend.json") + " --steps 1 --out " + p("editor");
  ASSERT_EQ(run_cli(train).code, 0);
  expect_bad_input(run_cli(rome + p("editor") + " --force"), "did not write");
  EXPECT_TRUE(fs::exists(dir_ / "editor" / "mend.safetensors"));
  expect_bad_input(run_cli(train), "--force");
}

// Every request format everywhere (issue 17): `edit` and `mend train` read
// zsRE, EasyEdit, MQuAKE and RippleEdits files as `gate` does (one loader,
// editors/request_formats.h), and the manifest records the normalised edit.
TEST_F(EditCli, EditAndMendTrainReadEveryRequestFormat) {
  const json files = {
      {"zsre", {{{"subject", "ka lo"}, {"src", "ka lo was born in the"}, {"alt", "north"}, {"answers", {"south"}}}}},
      {"easyedit", {{{"subject", "ka lo"}, {"prompt", "ka lo was born in the"}, {"target_new", "north"}}}},
      {"mquake", {{{"requested_rewrite", {request(0, "{} was born in the", "ka lo", "north")["requested_rewrite"]}}}}},
      {"rippleedits", {{{"edit", {{"subject", "ka lo"}, {"target", "north"}, {"cloze", "{} was born in the"}}},
                        {"Relation_Specificity", json::array()}}}}};
  for (const auto& [format, records] : files.items()) {
    write_requests(format + ".json", records);
    const auto e = run_cli(edit_args(format + ".json", format) + " --json");
    ASSERT_EQ(e.code, 0) << format << ": " << e.err;
    const auto manifest = json::parse(e.out);
    ASSERT_EQ(manifest["requests"].size(), 1u) << format;
    EXPECT_EQ(manifest["requests"][0]["requested_rewrite"]["subject"], "ka lo") << format;
    EXPECT_EQ(manifest["requests"][0]["requested_rewrite"]["target_new"]["str"], "north") << format;
  }
  std::ofstream(dir_ / "mend.json") << json{{"inner_params", {"blocks.1.mlp.W_in", "blocks.1.mlp.W_out"}}, {"rank", 4},
                                            {"edit_lr", 1e-2}, {"lr", 1e-3}, {"batch_size", 1}, {"n_loc", 0}}
                                            .dump();
  const auto t = run_cli("mend train --model " + p("base") + " --requests " + p("zsre.json") + " --hparams " +
                         p("mend.json") + " --steps 1 --out " + p("zsre_editor") + " --json");
  EXPECT_EQ(t.code, 0) << t.err;
  write_requests("unknown.json", json::array({{{"question", "where?"}}}));
  expect_bad_input(run_cli(edit_args("unknown.json", "unknown")), "zsRE");
}

}  // namespace
}  // namespace editgate::testing
