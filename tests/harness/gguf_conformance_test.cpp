// GGUF conformance (label conformance): files written by the `gguf` package
// (tests/conformance/make_gguf_references.py) read by editgate and compared
// with independent readers:
//  - every ggml type editgate dequantises equals gguf.quants.dequantize of the
//    same bytes exactly (max abs difference 0);
//  - a random Llama converted as llama.cpp does (permuted Q/K, mixed
//    F32/F16/Q8_0/Q4_0/Q4_1) gives the logits transformers computes after
//    loading the same GGUF itself, within 1e-3, and its tokenizer the same ids;
//  - a random Gemma 3 converted as llama.cpp does (norm weights stored as
//    1 + w, sliding and global layers, Q8_0/Q5_0/Q4_0/F16, a SentencePiece
//    vocabulary without merges) likewise, its tokenizer against transformers'
//    GemmaTokenizer built from the same file;
//  - saved as a HF checkpoint (what `edit --out` writes), either model reloads
//    with the same logits, tokens and weights fingerprint.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>

#include "harness/checkpoint.h"
#include "harness/gguf_dequant.h"
#include "harness/gguf_reader.h"
#include "harness/safetensors_reader.h"
#include "harness/text_model.h"
#include "harness/tokenizer_diff.h"
#include "tests/harness/reference_dir.h"
#include "tests/harness/tiny_checkpoint.h"

namespace editgate::testing {
namespace {

namespace fs = std::filesystem;

constexpr double kLogitTol = 1e-3;

const ReferenceDir& gguf_references() {
  static const ReferenceDir refs = make_reference_dir("EDITGATE_GGUF_CONFORMANCE_DIR", "make_gguf_references.py");
  return refs;
}

class GgufConformance : public ::testing::Test {
 protected:
  void SetUp() override {
    const ReferenceDir& refs = gguf_references();
    if (!refs.error.empty()) GTEST_FAIL() << refs.error;
    if (!refs.skip.empty()) GTEST_SKIP() << refs.skip;
    dir_ = refs.dir;
  }
  fs::path dir_;
  c10::NoGradGuard no_grad_;
};

TEST_F(GgufConformance, DequantisationEqualsGgufPackage) {
  const auto file = harness::GgufFile::open(dir_ / "dequant.gguf");
  const auto ref = harness::SafetensorsFile::open(dir_ / "dequant_reference.safetensors");
  ASSERT_EQ(file->tensors().size(), ref->tensors().size());
  for (const auto& info : file->tensors()) {
    const at::Tensor got = harness::dequantize_tensor(*file, info);
    const at::Tensor want = ref->tensor(info.name);
    ASSERT_EQ(got.sizes(), want.sizes()) << info.name;
    const double diff = max_abs_diff(got, want);
    std::printf("[conformance] gguf dequant %-6s max|diff| %.3g\n", info.name.c_str(), diff);
    RecordProperty("max_abs_diff_" + info.name, ::testing::PrintToString(diff));
    EXPECT_EQ(diff, 0.0) << info.name;
    EXPECT_TRUE(at::equal(got, want)) << info.name;  // bit for bit, not just within rounding
  }
}

// One converted model: <stem>.gguf with transformers' <stem>_reference.{json,safetensors}.
class GgufReferenceModel : public GgufConformance {
 protected:
  void load_reference(const std::string& stem) {
    GgufConformance::SetUp();
    if (IsSkipped() || HasFailure()) return;
    info_ = nlohmann::json::parse(read_text_file(dir_ / (stem + "_reference.json")));
    logits_ = harness::SafetensorsFile::open(dir_ / (stem + "_reference.safetensors"));
  }
  // Max |diff| of `tm`'s logits against transformers' on every prompt.
  double worst_logit_diff(harness::TextModel& tm) {
    double worst = 0;
    const auto prompts = info_["prompts"].get<std::vector<std::vector<int64_t>>>();
    for (size_t i = 0; i < prompts.size(); ++i) {
      const auto ids = at::tensor(prompts[i], at::kLong).unsqueeze(0);
      worst = std::max(worst, max_abs_diff(tm.model().forward(ids)[0], logits_->tensor("prompt." + std::to_string(i))));
    }
    return worst;
  }
  void expect_same_tokens(const harness::TextModel& tm) {
    for (const auto& t : info_["texts"]) {
      EXPECT_EQ(tm.tokenizer().encode(t["text"].get<std::string>()), t["ids"].get<std::vector<int64_t>>())
          << t["text"];
      EXPECT_EQ(tm.encode_prompt(t["text"].get<std::string>()), t["prompt_ids"].get<std::vector<int64_t>>())
          << t["text"];
    }
  }
  // Saved as a HF checkpoint and loaded again: the same weights, tokenizer, logits and ids.
  void expect_hf_copy_matches(const harness::TextModel& tm) {
    TempDir out;
    harness::save_model(tm.model(), out / "ckpt", tm.dir(), at::kFloat, tm.loaded().companion_files);
    ASSERT_TRUE(fs::exists(out / "ckpt" / "tokenizer.json"));
    auto hf = harness::TextModel::load(out / "ckpt", harness::LoadOptions{"cpu", "f32", true});
    EXPECT_EQ(hf.loaded().source_format, "safetensors");
    EXPECT_EQ(hf.loaded().weights_sha256, tm.loaded().weights_sha256);
    EXPECT_EQ(hf.adds_bos(), tm.adds_bos());
    // The same tokenizer in every respect the gate compares (else gating a GGUF
    // base against its edit would fail Audit with "tokenizer differs").
    EXPECT_EQ(harness::tokenizer_differences(tm.tokenizer(), hf.tokenizer()), std::vector<std::string>{});
    EXPECT_LT(worst_logit_diff(hf), kLogitTol);
    expect_same_tokens(hf);
  }
  nlohmann::json info_;
  std::shared_ptr<const harness::SafetensorsFile> logits_;
};

class GgufConformanceLlama : public GgufReferenceModel {
 protected:
  void SetUp() override { load_reference("llama"); }
};

class GgufConformanceGemma3 : public GgufReferenceModel {
 protected:
  void SetUp() override { load_reference("gemma3"); }
};

TEST_F(GgufConformanceLlama, LogitsAndTokensMatchTransformers) {
  auto tm = harness::TextModel::load(dir_ / "llama.gguf", harness::LoadOptions{"cpu", "f32", true});
  EXPECT_EQ(tm.loaded().source_format, "gguf");
  EXPECT_FALSE(tm.model().config().tie_word_embeddings);
  EXPECT_EQ(tm.model().config().n_kv_heads, 2);
  EXPECT_TRUE(tm.adds_bos());  // tokenizer.ggml.add_bos_token true
  const double diff = worst_logit_diff(tm);
  std::printf("[conformance] gguf llama logits vs transformers max|diff| %.3g\n", diff);
  RecordProperty("max_abs_diff_logits", ::testing::PrintToString(diff));
  EXPECT_LT(diff, kLogitTol);
  expect_same_tokens(tm);
}

TEST_F(GgufConformanceLlama, SavedAsHfCheckpointReloadsTheSame) {
  auto tm = harness::TextModel::load(dir_ / "llama.gguf", harness::LoadOptions{"cpu", "f32", true});
  expect_hf_copy_matches(tm);
}

TEST_F(GgufConformanceGemma3, LogitsAndTokensMatchTransformers) {
  auto tm = harness::TextModel::load(dir_ / "gemma3.gguf", harness::LoadOptions{"cpu", "f32", true});
  const auto& c = tm.model().config();
  EXPECT_EQ(c.model_type, "gemma3_text");
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(c.sliding_layers, (std::vector<bool>{true, true, true, true, true, false}));  // llama.cpp's pattern
  EXPECT_EQ(c.sliding_window, 4);
  EXPECT_EQ(tm.tokenizer().kind(), "bpe");
  EXPECT_TRUE(tm.adds_bos());
  const double diff = worst_logit_diff(tm);
  std::printf("[conformance] gguf gemma3 logits vs transformers (%s) max|diff| %.3g\n",
              info_["tokenizer_class"].get<std::string>().c_str(), diff);
  RecordProperty("max_abs_diff_logits", ::testing::PrintToString(diff));
  EXPECT_LT(diff, kLogitTol);
  expect_same_tokens(tm);
}

TEST_F(GgufConformanceGemma3, SavedAsHfCheckpointReloadsTheSame) {
  auto tm = harness::TextModel::load(dir_ / "gemma3.gguf", harness::LoadOptions{"cpu", "f32", true});
  expect_hf_copy_matches(tm);
}

}  // namespace
}  // namespace editgate::testing
