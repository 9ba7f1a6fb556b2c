#pragma once
// Tiny random checkpoints written from C++ for the runtime tests: a HF
// config.json plus model.safetensors (or shards) with the tensor names and
// layouts transformers uses, so the tests need no Python and no files on disk
// beforehand. The tensor lists are written out by hand here, independently of
// the architectures' own expected_tensors(), so a naming or shape mistake in
// the runtime shows up as a load failure. Also a temporary directory that
// removes itself.

#include <ATen/core/Tensor.h>
#include <c10/core/GradMode.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "harness/checkpoint.h"

namespace editgate::testing {

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

struct TinySpec {
  std::string model_type = "gpt2";  // gpt2 | llama | gptj | gpt_neox | gemma3_text
  int64_t n_layers = 2;
  int64_t d_model = 32;
  int64_t n_heads = 4;
  int64_t n_kv_heads = 4;  // llama and gemma3_text; < n_heads for grouped-query attention
  int64_t d_mlp = 48;
  int64_t vocab = 64;
  int64_t max_positions = 64;
  bool tied = true;          // tie_word_embeddings: no lm_head.weight in the file
  bool llama3_rope = false;  // llama only: rope_parameters with rope_type llama3
  int64_t rotary_dim = 4;    // gptj: rotary_dim; gpt_neox: rotary_pct = rotary_dim / d_head
  bool parallel_residual = true;  // gpt_neox only: use_parallel_residual
  uint64_t seed = 0;
};

// The config.json transformers would write for `spec` (the fields editgate reads).
nlohmann::json tiny_config(const TinySpec& spec);

// Random float32 weights under their HF names: GPT-2 Conv1D weights [in, out],
// Llama, GPT-J and GPT-NeoX nn.Linear weights [out, in]. Large enough (std ~0.15) that logits differ
// clearly between tokens, so greedy choices are not decided by rounding.
NamedTensors tiny_tensors(const TinySpec& spec);

// Writes config.json and the weights (sharded when max_shard_bytes > 0) into `dir`.
void write_checkpoint(const std::filesystem::path& dir, const nlohmann::json& config, const NamedTensors& tensors,
                      uint64_t max_shard_bytes = 0);
inline void write_tiny_checkpoint(const std::filesystem::path& dir, const TinySpec& spec,
                                  uint64_t max_shard_bytes = 0) {
  write_checkpoint(dir, tiny_config(spec), tiny_tensors(spec), max_shard_bytes);
}

// The architectures the runtime tests run over, named for GoogleTest.
struct TinyArch {
  std::string name;  // Gpt2, LlamaGqa, LlamaTied, Gptj, GptNeox, GptNeoxSequential
  TinySpec spec;
};
std::vector<TinyArch> tiny_architectures();
inline std::string tiny_arch_name(const ::testing::TestParamInfo<TinyArch>& info) { return info.param.name; }

// max |a - b| over all elements, as double (both moved to CPU float32).
double max_abs_diff(const at::Tensor& a, const at::Tensor& b);

// Random token ids in [0, vocab), one row per length; the same for a given seed.
std::vector<std::vector<int64_t>> random_prompts(const std::vector<int64_t>& lengths, int64_t vocab, uint64_t seed);

// A fresh directory under the system temp dir, named after the running test
// and the process, removed (with its contents) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& sub) const { return path_ / sub; }

 private:
  std::filesystem::path path_;
};

}  // namespace editgate::testing

namespace editgate::testing {

// One tiny checkpoint of GetParam()'s architecture, written and loaded (device
// from EDITGATE_DEVICE, else auto) before each test, with gradients off.
class TinyModelTest : public ::testing::TestWithParam<TinyArch> {
 protected:
  void SetUp() override {
    write_tiny_checkpoint(ckpt_dir(), GetParam().spec);
    loaded_ = harness::load_model(ckpt_dir());
  }
  std::filesystem::path ckpt_dir() const { return dir_ / "ckpt"; }
  harness::Transformer& model() { return *loaded_.model; }
  const harness::ModelConfig& config() { return loaded_.model->config(); }

  c10::NoGradGuard no_grad_;
  TempDir dir_;
  harness::LoadedModel loaded_;
};

}  // namespace editgate::testing
