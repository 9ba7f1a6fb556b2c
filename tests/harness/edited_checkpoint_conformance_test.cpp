// What editgate writes loads in transformers (label conformance): an edited
// checkpoint written by `editgate edit` (ROME on the GPT-2 fixture, on a tiny
// Llama, and on a Llama read from a GGUF file) is loaded by
// tests/conformance/hf_logits.py with AutoTokenizer and AutoModelForCausalLM;
// its prompt ids must equal editgate's and its logits editgate's within 1e-4
// (max difference printed per checkpoint). It runs the editgate binary of this
// build tree ($EDITGATE_CLI, else found beside this test binary) and skips
// without it or without the .venv's python.

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "harness/safetensors_reader.h"
#include "harness/text_model.h"
#include "tests/editors/random_text_model.h"
#include "tests/harness/reference_dir.h"
#include "tests/harness/tiny_checkpoint.h"

namespace editgate::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr double kLogitTol = 1e-4;

const fs::path kSource = EDITGATE_SOURCE_DIR;
const fs::path kPython = kSource / ".venv" / "bin" / "python";

// The CLI of this build tree: harness_tests does not link it, so it is looked
// up at run time (build/tests/harness_tests -> build/{cli,harness/cli}/editgate).
fs::path editgate_cli() {
  if (const char* env = std::getenv("EDITGATE_CLI"); env != nullptr && *env != '\0') return env;
  const fs::path build = fs::canonical("/proc/self/exe").parent_path().parent_path();
  for (const fs::path& p : {build / "cli" / "editgate", build / "harness" / "cli" / "editgate"}) {
    if (fs::exists(p)) return p;
  }
  return build / "harness" / "cli" / "editgate";
}

class ConformanceEditedCheckpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    cli_ = editgate_cli();
    if (!fs::exists(cli_)) GTEST_SKIP() << "no " << cli_ << " (build the editgate target)";
    if (!fs::exists(kPython)) GTEST_SKIP() << "no " << kPython << " (run scripts/setup.sh)";
    // Few ROME steps, no covariance and no generated context templates: this
    // test is about the files, not the edit (and templates the random GGUF
    // model generates can split a UTF-8 character, which edit_manifest.json
    // cannot hold yet: issue 17 item 2).
    std::ofstream(dir_ / "hparams.json") << json{{"layers", {0}}, {"v_num_grad_steps", 4}, {"mom2_adjustment", false},
                                                {"context_template_length_params", {{3, 0}}}}
                                                .dump();
  }

  int run(const std::string& command) {
    const int status = std::system(("OMP_NUM_THREADS=1 EDITGATE_DEVICE=cpu " + command + " >'" +
                                    (dir_ / "log").string() + "' 2>&1").c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::string log() const { return read_text_file(dir_ / "log"); }
  static std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

  // ROME-edits `base` with one request and writes the result to dir_/edited.
  fs::path edit(const fs::path& base, const json& request) {
    std::ofstream(dir_ / "request.json") << json::array({request}).dump();
    const fs::path out = dir_ / "edited";
    const int code = run(q(cli_) + " edit --model " + q(base) + " --method rome --requests " +
                         q(dir_ / "request.json") + " --hparams " + q(dir_ / "hparams.json") +
                         " --no-stats-cache --out " + q(out));
    EXPECT_EQ(code, 0) << log();
    return out;
  }

  // transformers' ids and logits for `texts` against editgate's; returns the max |diff|.
  double compare_with_transformers(const fs::path& ckpt, const std::vector<std::string>& texts, const std::string& name) {
    std::ofstream(dir_ / "texts.json") << json(texts).dump();
    const int code = run(q(kPython) + " " + q(kSource / "tests" / "conformance" / "hf_logits.py") + " " + q(ckpt) +
                         " " + q(dir_ / "texts.json") + " " + q(dir_ / "hf"));
    if (code == 77) {
      skipped_ = log();
      return 0;
    }
    EXPECT_EQ(code, 0) << log();
    if (code != 0) return 1e9;
    const auto hf = json::parse(read_text_file(dir_ / "hf.json"));
    const auto logits = harness::SafetensorsFile::open(dir_ / "hf.safetensors");
    auto tm = harness::TextModel::load(ckpt, harness::LoadOptions{"cpu", "f32", true});
    c10::NoGradGuard no_grad;
    double worst = 0;
    for (size_t i = 0; i < texts.size(); ++i) {
      const auto ids = tm.encode_prompt(texts[i]);
      EXPECT_EQ(ids, hf["ids"][i].get<std::vector<int64_t>>()) << name << ": \"" << texts[i] << "\"";
      if (ids != hf["ids"][i].get<std::vector<int64_t>>()) continue;
      const at::Tensor ours = tm.model().forward(at::tensor(ids, at::kLong).unsqueeze(0))[0];
      const at::Tensor theirs = logits->tensor("logits." + std::to_string(i));
      EXPECT_EQ(ours.sizes(), theirs.sizes()) << name;
      if (ours.sizes() == theirs.sizes()) worst = std::max(worst, max_abs_diff(ours, theirs));
    }
    std::printf("[conformance] %s: edited checkpoint in transformers (%s), logits max|diff| %.3g\n", name.c_str(),
                hf["tokenizer_class"].get<std::string>().c_str(), worst);
    RecordProperty("max_abs_diff_logits", ::testing::PrintToString(worst));
    return worst;
  }

  static json request(const std::string& prompt, const std::string& subject, const std::string& target,
                      const std::string& old_target) {
    return {{"case_id", 0},
            {"requested_rewrite",
             {{"prompt", prompt}, {"subject", subject}, {"target_new", {{"str", target}}},
              {"target_true", {{"str", old_target}}}}}};
  }

  TempDir dir_;
  fs::path cli_;         // the editgate binary
  std::string skipped_;  // set when the reference script lacks its packages
};

TEST_F(ConformanceEditedCheckpoint, RomeEditedGpt2FixtureMatchesTransformers) {
  const auto first = json::parse(read_text_file(kSource / "fixtures" / "default" / "requests" / "edits.counterfact.json"))[0];
  const fs::path edited = edit(kSource / "fixtures" / "default", first);
  ASSERT_FALSE(HasFailure());
  const std::string subject = first["requested_rewrite"]["subject"];
  std::string prompt = first["requested_rewrite"]["prompt"];
  prompt.replace(prompt.find("{}"), 2, subject);
  const double diff = compare_with_transformers(edited, {prompt, "the residence of " + subject + " is in", "bil dor"},
                                                "gpt2 fixture + ROME");
  if (!skipped_.empty()) GTEST_SKIP() << skipped_;
  EXPECT_LT(diff, kLogitTol);
}

TEST_F(ConformanceEditedCheckpoint, RomeEditedTinyLlamaMatchesTransformers) {
  write_random_text_model(dir_ / "base", "llama");
  const fs::path edited = edit(dir_ / "base", request("{} was born in the", "ka lo", "north", "south"));
  ASSERT_FALSE(HasFailure());
  const double diff = compare_with_transformers(edited, {"ka lo was born in the", "the north"}, "tiny llama + ROME");
  if (!skipped_.empty()) GTEST_SKIP() << skipped_;
  EXPECT_LT(diff, kLogitTol);
}

TEST_F(ConformanceEditedCheckpoint, RomeEditedGgufLlamaMatchesTransformers) {
  static const ReferenceDir refs = make_reference_dir("EDITGATE_GGUF_CONFORMANCE_DIR", "make_gguf_references.py");
  if (!refs.error.empty()) GTEST_FAIL() << refs.error;
  if (!refs.skip.empty()) GTEST_SKIP() << refs.skip;
  const fs::path edited = edit(refs.dir / "llama.gguf", request("{} is located in the city of", "The Eiffel Tower",
                                                                "Rome", "Paris"));
  ASSERT_FALSE(HasFailure());
  const double diff = compare_with_transformers(
      edited, {"The Eiffel Tower is located in the city of", "Hello world"}, "GGUF llama + ROME");
  if (!skipped_.empty()) GTEST_SKIP() << skipped_;
  EXPECT_LT(diff, kLogitTol);
}

}  // namespace
}  // namespace editgate::testing
