// `editgate erase | probe | erase-model` as a user runs them: exit 0 and the
// output file on good input; exit 2 with one line "editgate: error: ..." for
// bad shapes, non-finite values, one class, n <= 1, a bad hook. Runs the
// editgate binary of this build tree; skips when it has not been built.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "harness/safetensors_writer.h"
#include "harness/tokenizer_pipeline.h"
#include "tests/editors/random_text_model.h"
#include "tests/editors/synthetic_concept.h"
#include "tests/harness/tiny_checkpoint.h"

namespace editgate::testing {
namespace {

namespace fs = std::filesystem;

struct CliRun {
  int code = -1;
  std::string out;
  std::string err;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ErasureCli : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(EDITGATE_CLI)) << "no " << EDITGATE_CLI << " (editors_tests depends on the editgate target)";
  }
  CliRun run(const std::string& args) {
    const std::string cmd = std::string("'") + EDITGATE_CLI + "' " + args + " >'" + (dir_ / "stdout").string() +
                            "' 2>'" + (dir_ / "stderr").string() + "'";
    const int status = std::system(cmd.c_str());
    return CliRun{WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(dir_ / "stdout"), slurp(dir_ / "stderr")};
  }
  std::string write(const std::string& name, const std::vector<std::pair<std::string, at::Tensor>>& tensors) {
    harness::write_safetensors(dir_ / name, tensors);
    return "'" + (dir_ / name).string() + "'";
  }
  void expect_bad_input(const std::string& args, const std::string& needle) {
    const CliRun r = run(args);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("editgate: error: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  }
  TempDir dir_;
};

TEST_F(ErasureCli, EraseAndProbeSucceedOnGoodInput) {
  const auto data = make_concept({.n = 800, .d = 6, .k = 2, .linear = 2.0, .seed = 31});
  const auto in = write("in.safetensors", {{"X", data.x.to(at::kFloat)}, {"Z", data.z}});
  const std::string out = "'" + (dir_ / "out.safetensors").string() + "'";
  CliRun r = run("erase --in " + in + " --out " + out + " --holdout 0.5 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["fit"]["rank"], 1);
  r = run("probe --in " + out + " --tensor X_erased --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_NEAR(j["excluded_fit_rows"].get<double>(), 400, 2);  // per-class rounding
  EXPECT_LE(j["logistic"]["accuracy_ci95"][0].get<double>(), j["logistic"]["chance_accuracy"].get<double>());
  r = run("probe --in " + in);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("chance (majority)"), std::string::npos) << r.out;
}

// 40 subjects of 10 near-identical rows: --groups holds out whole subjects and
// counts them in the interval, which is far wider than the rows' one.
TEST_F(ErasureCli, ProbeByGroupHoldsOutSubjectsAndCountsThem) {
  at::manual_seed(3);
  const at::Tensor subject = at::arange(40, at::kLong).repeat_interleave(10);
  const at::Tensor label = (at::arange(40, at::kLong) % 2).index_select(0, subject);
  const at::Tensor x = at::randn({40, 4}).index_select(0, subject) + 0.01 * at::randn({400, 4});
  const auto in = write("g.safetensors", {{"X", x}, {"Z", label}, {"S", subject}});
  CliRun r = run("probe --in " + in + " --groups S --no-quadratic --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto by_subject = nlohmann::json::parse(r.out)["logistic"];
  EXPECT_EQ(by_subject["n_groups"], 12);  // 0.3 of each class's 20 subjects: 6 + 6
  EXPECT_EQ(by_subject["n_test"], 120);
  r = run("probe --in " + in + " --no-quadratic --json");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto by_row = nlohmann::json::parse(r.out)["logistic"];
  EXPECT_EQ(by_row["n_groups"], 0);
  const auto width = [](const nlohmann::json& p) {
    return p["accuracy_ci95"][1].get<double>() - p["accuracy_ci95"][0].get<double>();
  };
  EXPECT_GT(width(by_subject), 2 * width(by_row));
  expect_bad_input("probe --in " + in + " --groups Z2", "tensor 'Z2'");
  expect_bad_input("probe --in " + write("h", {{"X", x}, {"Z", label}, {"S", subject.to(at::kInt)}}) + " --groups S",
                   "I64 subject ids");
}

TEST_F(ErasureCli, BadInputExitsTwoWithOneLine) {
  const at::Tensor x = at::randn({10, 3}, at::kFloat);
  const at::Tensor z = at::tensor(std::vector<int64_t>{0, 1, 0, 1, 0, 1, 0, 1, 0, 1});
  const std::string out = " --out '" + (dir_ / "out.safetensors").string() + "'";
  expect_bad_input("erase --in " + write("a", {{"X", x.flatten()}, {"Z", z}}) + out, "2-D tensor");
  at::Tensor nan = x.clone();
  nan[3][0] = NAN;
  expect_bad_input("erase --in " + write("b", {{"X", nan}, {"Z", z}}) + out, "NaN or Inf in row 3");
  expect_bad_input("erase --in " + write("c", {{"X", x}, {"Z", at::zeros({10}, at::kLong)}}) + out, "2 distinct");
  expect_bad_input("erase --in " + write("d", {{"X", x.narrow(0, 0, 1)}, {"Z", z.narrow(0, 0, 1)}}) + out,
                   "at least 2 rows");
  expect_bad_input("probe --in " + write("e", {{"X", x}, {"Z", at::ones({10}, at::kLong)}}), "2 distinct");
  expect_bad_input("probe --in " + write("f", {{"X", x}, {"Z", z.to(at::kFloat)}}), "dtype I64");
  expect_bad_input("erase --in '" + (dir_ / "missing").string() + "'" + out, "readable .safetensors");
  EXPECT_FALSE(fs::exists(dir_ / "out.safetensors"));
}

TEST_F(ErasureCli, EraseModelRunsOnARandomModelAndRejectsABadHook) {
  write_random_text_model(dir_ / "m", "gpt2", 5);
  std::ofstream(dir_ / "ds.json") << make_concept_dataset(2, 2).dump();
  const std::string common = "erase-model --model '" + (dir_ / "m").string() + "' --dataset '" +
                             (dir_ / "ds.json").string() + "' --out '" + (dir_ / "out").string() + "' --device cpu";
  const CliRun r = run(common + " --hook blocks.0.hook_resid_post");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("fact recall"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(dir_ / "out" / "eraser.safetensors"));
  // --force: past the output rule (the eraser above is editgate's), to the hook's check.
  expect_bad_input(common + " --force --hook blocks.9.hook_resid_post", "layer below 2");
  expect_bad_input(common + " --force --hook blocks.0.hook_nothing", "hook");
  EXPECT_TRUE(fs::exists(dir_ / "out" / "eraser.safetensors"));  // a refused run leaves the earlier output
}

TEST_F(ErasureCli, EraseModelScrubWritesAnEraserPerLayerAndRefusesMixedFlags) {
  write_random_text_model(dir_ / "m", "llama", 6);
  std::ofstream(dir_ / "ds.json") << make_concept_dataset(2, 2).dump();
  std::ofstream(dir_ / "text.txt") << "alpha beta\nbeta alpha gamma\n";
  const std::string common = "erase-model --model '" + (dir_ / "m").string() + "' --dataset '" +
                             (dir_ / "ds.json").string() + "' --out '" + (dir_ / "out").string() + "' --device cpu";
  const CliRun r = run(common + " --scrub --behaviour born_in --text '" + (dir_ / "text.txt").string() + "'");
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* line : {"scrubbed 2 layers", "blocks.0.hook_resid_pre", "blocks.1.hook_resid_pre", "fact recall",
                           "behaviour after", "--text NLL"}) {
    EXPECT_NE(r.out.find(line), std::string::npos) << line << " in " << r.out;
  }
  EXPECT_TRUE(fs::exists(dir_ / "out" / "blocks.0.hook_resid_pre.safetensors"));
  EXPECT_TRUE(fs::exists(dir_ / "out" / "blocks.1.hook_resid_pre.safetensors"));
  const auto report = nlohmann::json::parse(slurp(dir_ / "out" / "report.json"));
  EXPECT_EQ(report["mode"], "scrub");
  EXPECT_EQ(report["layers"].size(), 2u);
  expect_bad_input(common + " --force --scrub --hook blocks.0.hook_resid_post", "--scrub");
  expect_bad_input(common + " --force", "--hook");
  expect_bad_input(common + " --force --hook blocks.0.hook_resid_post --text x", "--scrub");
  expect_bad_input(common + " --force --scrub --all-positions", "--all-positions");
  expect_bad_input(common + " --force --scrub --behaviour no_such_relation", "no_such_relation");
  EXPECT_TRUE(fs::exists(dir_ / "out" / "report.json"));  // refused runs leave the earlier output
}

// `tokenize`, `score` and `generate` on a byte-level BPE (GPT-2-style)
// tokenizer, where one character can be two tokens (issue 17): --json always
// exits 0 with valid UTF-8 JSON; tokenize's pieces are the vocabulary strings
// (HF's convert_ids_to_tokens: "Ã" and "§" for the two bytes of "ç"), and
// what the model generates is kept with invalid sequences replaced.
class ModelCli : public ErasureCli {
 protected:
  void write_byte_level_model(const fs::path& dir) {
    TinySpec spec;
    spec.vocab = 261;
    write_tiny_checkpoint(dir, spec);
    nlohmann::json vocab;
    for (int b = 0; b < 256; ++b) vocab[harness::bytes_to_unicode()[b]] = b;
    vocab["fa"] = 256, vocab["ad"] = 257, vocab["ade"] = 258, vocab["Ã§"] = 259;
    const nlohmann::json tokenizer = {
        {"added_tokens", {{{"id", 260}, {"content", "<|endoftext|>"}, {"special", true}}}},
        {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}}},
        {"decoder", {{"type", "ByteLevel"}}},
        {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", {"f a", "a d", "ad e", "Ã §"}}}}};
    std::ofstream(dir / "tokenizer.json") << tokenizer.dump();
  }
};

TEST_F(ModelCli, ByteLevelPiecesAndModelTextAreValidJson) {
  write_byte_level_model(dir_ / "bytes");
  const std::string model = " --model '" + (dir_ / "bytes").string() + "'";
  const auto t = run("tokenize" + model + " --json 'façade' '日本' '🙂'");
  ASSERT_EQ(t.code, 0) << t.err;
  const auto j = nlohmann::json::parse(t.out);  // throws on invalid UTF-8
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[0]["pieces"], nlohmann::json({"fa", "Ã§", "ade"}));
  EXPECT_EQ(j[0]["ids"], nlohmann::json({256, 259, 258}));
  // 日 is E6 97 A5: three byte tokens, none of them a character on its own.
  EXPECT_EQ(j[1]["ids"].size(), 6u);
  EXPECT_EQ(j[1]["pieces"][0], harness::bytes_to_unicode()[0xE6]);
  EXPECT_EQ(j[2]["ids"].size(), 4u);
  const auto plain = run("tokenize" + model + " 'façade'");
  ASSERT_EQ(plain.code, 0) << plain.err;
  EXPECT_NE(plain.out.find("fa | Ã§ | ade"), std::string::npos) << plain.out;

  // Random weights over 256 byte tokens: the continuation is bytes in no
  // particular order, invalid UTF-8 almost surely.
  const auto g = run("generate" + model + " --prompt 'façade' --max-new-tokens 24 --device cpu --json");
  ASSERT_EQ(g.code, 0) << g.err;
  const auto gj = nlohmann::json::parse(g.out);
  EXPECT_GT(gj["ids"].size(), 3u);
  // U+FFFD where the bytes broke off: the case a plain dump() throws on (exit 3).
  EXPECT_NE(gj["text"].get<std::string>().find("\xEF\xBF\xBD"), std::string::npos) << gj["text"];
  const auto s = run("score" + model + " --prompt 'fa' --continuation 'çade日' --device cpu --json");
  ASSERT_EQ(s.code, 0) << s.err;
  EXPECT_EQ(nlohmann::json::parse(s.out)["tokens"].size(), 5u);
}

}  // namespace
}  // namespace editgate::testing
