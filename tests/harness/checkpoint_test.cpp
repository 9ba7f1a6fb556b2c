// load_model's validation branches, one test each: config.json (missing file,
// bad JSON, missing field, wrong type, unknown model_type, heads not dividing
// the width, ...) and the tensors against it (mis-shaped, missing, extra,
// non-float, NaN), each an InputError naming the file and the field or tensor.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <fstream>
#include <functional>

#include "harness/checkpoint.h"
#include "harness/input_error.h"
#include "tests/harness/tiny_checkpoint.h"

namespace editgate::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

TinySpec llama_spec() {
  TinySpec s;
  s.model_type = "llama";
  s.n_kv_heads = 2;
  return s;
}

// Loads `dir` expecting an InputError whose path ends with `file`, whose field
// contains `field` and whose message contains every one of `texts`.
void expect_rejected(const fs::path& dir, const std::string& file, const std::string& field,
                     const std::vector<std::string>& texts = {}) {
  try {
    harness::load_model(dir, {.device = "cpu"});
    ADD_FAILURE() << "no InputError for " << field;
  } catch (const InputError& e) {
    EXPECT_TRUE(e.path().ends_with(file)) << "path: " << e.path() << "\n" << e.what();
    EXPECT_NE(e.field().find(field), std::string::npos) << "field: " << e.field() << "\n" << e.what();
    for (const auto& t : texts) EXPECT_NE(std::string(e.what()).find(t), std::string::npos) << t << "\n" << e.what();
  }
}

// Writes a valid tiny checkpoint whose config.json went through `edit`.
void write_with_config(const fs::path& dir, const TinySpec& spec, const std::function<void(json&)>& edit) {
  json config = tiny_config(spec);
  edit(config);
  write_checkpoint(dir, config, tiny_tensors(spec));
}

// Writes a valid tiny checkpoint whose tensor list went through `edit`.
void write_with_tensors(const fs::path& dir, const TinySpec& spec, const std::function<void(NamedTensors&)>& edit,
                        uint64_t max_shard_bytes = 0) {
  NamedTensors tensors = tiny_tensors(spec);
  edit(tensors);
  write_checkpoint(dir, tiny_config(spec), tensors, max_shard_bytes);
}

at::Tensor& find(NamedTensors& tensors, const std::string& name) {
  for (auto& [n, t] : tensors) {
    if (n == name) return t;
  }
  throw std::runtime_error("no tensor " + name);
}

TEST(CheckpointConfig, MissingConfigFile) {
  TempDir dir;
  write_tiny_checkpoint(dir.path(), TinySpec{});
  fs::remove(dir / "config.json");
  expect_rejected(dir.path(), "config.json", "", {"no such file", "checkpoint directory"});
}

TEST(CheckpointConfig, InvalidJson) {
  TempDir dir;
  write_tiny_checkpoint(dir.path(), TinySpec{});
  std::ofstream(dir / "config.json") << "{\"model_type\": \"gpt2\", ";
  expect_rejected(dir.path(), "config.json", "", {"valid JSON"});
}

TEST(CheckpointConfig, MissingField) {
  TempDir dir;
  write_with_config(dir.path(), TinySpec{}, [](json& j) { j.erase("n_embd"); });
  expect_rejected(dir.path(), "config.json", "n_embd", {"missing"});
  TempDir llama;
  write_with_config(llama.path(), llama_spec(), [](json& j) { j.erase("intermediate_size"); });
  expect_rejected(llama.path(), "config.json", "intermediate_size", {"missing"});
}

TEST(CheckpointConfig, WrongType) {
  TempDir dir;
  write_with_config(dir.path(), TinySpec{}, [](json& j) { j["n_layer"] = "2"; });
  expect_rejected(dir.path(), "config.json", "n_layer", {"positive integer", "\"2\""});
  TempDir negative;
  write_with_config(negative.path(), TinySpec{}, [](json& j) { j["vocab_size"] = -64; });
  expect_rejected(negative.path(), "config.json", "vocab_size", {"-64"});
  TempDir flag;
  write_with_config(flag.path(), llama_spec(), [](json& j) { j["tie_word_embeddings"] = "yes"; });
  expect_rejected(flag.path(), "config.json", "tie_word_embeddings", {"true or false"});
}

TEST(CheckpointConfig, UnknownModelType) {
  TempDir dir;
  write_with_config(dir.path(), TinySpec{}, [](json& j) { j["model_type"] = "bert"; });
  expect_rejected(dir.path(), "config.json", "model_type", {"bert", "gpt2", "llama"});
  TempDir missing;
  write_with_config(missing.path(), TinySpec{}, [](json& j) { j.erase("model_type"); });
  expect_rejected(missing.path(), "config.json", "model_type", {"missing"});
}

TEST(CheckpointConfig, HeadsMustDivideWidth) {
  TempDir dir;
  write_with_config(dir.path(), TinySpec{}, [](json& j) { j["n_head"] = 5; });
  expect_rejected(dir.path(), "config.json", "n_head", {"divisor of n_embd=32", "5"});
  TempDir kv;
  write_with_config(kv.path(), llama_spec(), [](json& j) { j["num_key_value_heads"] = 3; });
  expect_rejected(kv.path(), "config.json", "num_key_value_heads", {"divisor of num_attention_heads=4"});
}

TEST(CheckpointConfig, UnsupportedVariants) {
  TempDir act;
  write_with_config(act.path(), TinySpec{}, [](json& j) { j["activation_function"] = "relu"; });
  expect_rejected(act.path(), "config.json", "activation_function", {"relu"});
  TempDir rope;
  write_with_config(rope.path(), llama_spec(), [](json& j) { j["rope_parameters"]["rope_type"] = "yarn"; });
  expect_rejected(rope.path(), "config.json", "rope_type", {"yarn", "llama3"});
  TempDir rope_obj;
  write_with_config(rope_obj.path(), llama_spec(), [](json& j) { j["rope_parameters"] = 7; });
  expect_rejected(rope_obj.path(), "config.json", "rope_parameters", {"an object"});
}

// GPT-J's rotary_dim and NeoX's rotary_pct in both spellings (Pythia's files and
// transformers 5's rope_parameters), and the layouts editgate cannot rotate.
TEST(CheckpointConfig, RotaryLayoutOfGptjAndNeox) {
  TinySpec gptj;
  gptj.model_type = "gptj";  // d_head 8
  auto c = harness::ModelConfig::from_json(tiny_config(gptj), "config.json");
  EXPECT_EQ(c.rotary_dim, 4);
  EXPECT_TRUE(c.rotary_interleaved);
  EXPECT_TRUE(c.parallel_residual);
  for (int64_t bad : {10, 3}) {
    TempDir dir;
    write_with_config(dir.path(), gptj, [bad](json& j) { j["rotary_dim"] = bad; });
    expect_rejected(dir.path(), "config.json", "rotary_dim", {"even number <= the head size 8", std::to_string(bad)});
  }

  TinySpec neox;
  neox.model_type = "gpt_neox";
  neox.rotary_dim = 2;
  neox.parallel_residual = false;
  c = harness::ModelConfig::from_json(tiny_config(neox), "config.json");  // rotary_pct 0.25, rotary_emb_base
  EXPECT_EQ(c.rotary_dim, 2);
  EXPECT_FALSE(c.rotary_interleaved);
  EXPECT_FALSE(c.parallel_residual);
  EXPECT_TRUE(c.attention_bias);
  auto modern = tiny_config(neox);
  modern.erase("rotary_pct");
  modern.erase("rotary_emb_base");
  modern["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 500.0}, {"partial_rotary_factor", 0.5}};
  c = harness::ModelConfig::from_json(modern, "config.json");
  EXPECT_EQ(c.rotary_dim, 4);
  EXPECT_EQ(c.rope_theta, 500.0);
  TempDir odd;  // 8 * 0.375 = 3 dimensions: no whole pairs
  write_with_config(odd.path(), neox, [](json& j) { j["rotary_pct"] = 0.375; });
  expect_rejected(odd.path(), "config.json", "rotary_pct", {"3 dimensions"});
  TempDir scaled;
  write_with_config(scaled.path(), neox, [](json& j) { j["rope_parameters"] = {{"rope_type", "llama3"}}; });
  expect_rejected(scaled.path(), "config.json", "rope_type", {"llama3"});
}

// Gemma 3's layer kinds and per-kind RoPE, in the pre-5 spelling (pattern,
// rope_local_base_freq, rope_scaling for the global layers) and in transformers
// 5's (layer_types, rope_parameters per kind), and what is refused.
TEST(CheckpointConfig, Gemma3LayerKindsAndRopeInBothSpellings) {
  const json base = {{"model_type", "gemma3_text"}, {"hidden_size", 64}, {"num_hidden_layers", 7},
                     {"num_attention_heads", 4}, {"num_key_value_heads", 1}, {"head_dim", 32},
                     {"intermediate_size", 96}, {"vocab_size", 100}};
  json old = base;
  old["sliding_window_pattern"] = 3;
  old["sliding_window"] = 5;
  old["rope_local_base_freq"] = 500.0;
  old["rope_theta"] = 200000.0;
  old["rope_scaling"] = {{"rope_type", "linear"}, {"factor", 8.0}};
  old["query_pre_attn_scalar"] = 16;
  auto c = harness::ModelConfig::from_json(old, "config.json");
  EXPECT_EQ(c.sliding_layers, (std::vector<bool>{true, true, false, true, true, false, true}));
  EXPECT_EQ(c.sliding_window, 5);
  EXPECT_EQ(c.sliding_rope_theta, 500.0);
  EXPECT_FALSE(c.sliding_rope_scaling);
  EXPECT_EQ(c.rope_theta, 200000.0);
  ASSERT_TRUE(c.rope_scaling);
  EXPECT_EQ(c.rope_scaling->type, "linear");
  EXPECT_EQ(c.rope_scaling->factor, 8.0);
  EXPECT_DOUBLE_EQ(c.attention_scale, 0.25);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(c.activation, "gelu_pytorch_tanh");

  json modern = base;  // no pattern: transformers' default 6
  c = harness::ModelConfig::from_json(modern, "config.json");
  EXPECT_EQ(c.sliding_layers, (std::vector<bool>{true, true, true, true, true, false, true}));
  EXPECT_EQ(c.rope_theta, 1000000.0);
  EXPECT_EQ(c.sliding_rope_theta, 10000.0);
  EXPECT_DOUBLE_EQ(c.attention_scale, 1.0 / 16.0);  // query_pre_attn_scalar 256
  modern["layer_types"] = {"full_attention", "sliding_attention", "full_attention", "sliding_attention",
                           "sliding_attention", "sliding_attention", "full_attention"};
  modern["rope_parameters"] = {{"sliding_attention", {{"rope_type", "default"}, {"rope_theta", 700.0}}},
                               {"full_attention", {{"rope_type", "default"}, {"rope_theta", 30000.0}}}};
  c = harness::ModelConfig::from_json(modern, "config.json");
  EXPECT_EQ(c.sliding_layers, (std::vector<bool>{false, true, false, true, true, true, false}));
  EXPECT_EQ(c.sliding_rope_theta, 700.0);
  EXPECT_EQ(c.rope_theta, 30000.0);
  EXPECT_FALSE(c.rope_scaling);

  const auto refused = [&](const std::function<void(json&)>& change, const std::string& field) {
    json j = base;
    change(j);
    try {
      harness::ModelConfig::from_json(j, "config.json");
      ADD_FAILURE() << field << " accepted";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  };
  refused([](json& j) { j["use_bidirectional_attention"] = true; }, "use_bidirectional_attention");
  refused([](json& j) { j["layer_types"] = {"sliding_attention"}; }, "layer_types");
  refused(
      [](json& j) {
        j["layer_types"] = json::array();
        for (int i = 0; i < 7; ++i) j["layer_types"].push_back(i == 1 ? "chunked" : "full_attention");
      },
      "layer_types[1]");
  refused([](json& j) { j["rope_parameters"] = {{"full_attention", {{"rope_type", "yarn"}}}}; }, "rope_type");
  refused([](json& j) { j["num_key_value_heads"] = 3; }, "num_key_value_heads");
}

TEST(CheckpointTensors, MisShapedTensorNamesBothShapes) {
  TempDir dir;
  write_with_tensors(dir.path(), TinySpec{}, [](NamedTensors& t) {
    find(t, "transformer.h.1.mlp.c_proj.weight") = at::zeros({32, 48});  // transposed by mistake
  });
  expect_rejected(dir.path(), "model.safetensors", "transformer.h.1.mlp.c_proj.weight", {"[48, 32]", "[32, 48]"});
}

TEST(CheckpointTensors, ConfigDisagreeingWithTensors) {
  TempDir dir;
  write_with_config(dir.path(), llama_spec(), [](json& j) { j["num_key_value_heads"] = 4; });
  expect_rejected(dir.path(), "model.safetensors", "model.layers.0.self_attn.k_proj.weight", {"[32, 32]", "[16, 32]"});
}

TEST(CheckpointTensors, MissingTensor) {
  TempDir dir;
  write_with_tensors(dir.path(), llama_spec(), [](NamedTensors& t) {
    std::erase_if(t, [](const auto& p) { return p.first == "model.layers.1.mlp.up_proj.weight"; });
  });
  expect_rejected(dir.path(), "model.safetensors", "model.layers.1.mlp.up_proj.weight", {"missing"});
  // Untied embeddings need lm_head.
  TempDir untied;
  write_with_config(untied.path(), llama_spec(), [](json& j) { j["tie_word_embeddings"] = false; });
  expect_rejected(untied.path(), "model.safetensors", "lm_head.weight", {"missing"});
}

TEST(CheckpointTensors, ExtraTensor) {
  TempDir dir;
  write_with_tensors(dir.path(), TinySpec{}, [](NamedTensors& t) { t.emplace_back("transformer.h.2.ln_1.weight", at::ones({32})); });
  expect_rejected(dir.path(), "model.safetensors", "transformer.h.2.ln_1.weight", {"unexpected"});
}

TEST(CheckpointTensors, NonFloatTensor) {
  TempDir dir;
  write_with_tensors(dir.path(), TinySpec{}, [](NamedTensors& t) {
    find(t, "transformer.ln_f.bias") = at::zeros({32}, at::kInt);
  });
  expect_rejected(dir.path(), "model.safetensors", "transformer.ln_f.bias", {"floating-point"});
}

TEST(CheckpointTensors, NanWeight) {
  TempDir dir;
  write_with_tensors(dir.path(), llama_spec(), [](NamedTensors& t) {
    find(t, "model.layers.0.mlp.down_proj.weight")[3][5] = std::numeric_limits<float>::quiet_NaN();
  });
  expect_rejected(dir.path(), "model.safetensors", "model.layers.0.mlp.down_proj.weight", {"NaN"});
  EXPECT_NO_THROW(harness::load_model(dir.path(), {.device = "cpu", .check_finite = false}));
}

TEST(CheckpointTensors, ShardedErrorNamesTheShard) {
  TempDir dir;
  write_with_tensors(dir.path(), TinySpec{}, [](NamedTensors& t) {
    find(t, "transformer.h.1.mlp.c_fc.weight")[0][0] = std::numeric_limits<float>::infinity();
  }, /*max_shard_bytes=*/8192);
  ASSERT_TRUE(fs::exists(dir / "model.safetensors.index.json"));
  try {
    harness::load_model(dir.path(), {.device = "cpu"});
    ADD_FAILURE() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_TRUE(fs::exists(e.path())) << "names a file that does not exist: " << e.what();
    EXPECT_TRUE(fs::path(e.path()).filename().string().starts_with("model-")) << e.what();
    EXPECT_NE(e.field().find("transformer.h.1.mlp.c_fc.weight"), std::string::npos) << e.what();
  }
}

TEST(CheckpointTensors, LegacyGpt2NamesAndMaskBuffersLoad) {
  TempDir dir;
  write_with_tensors(dir.path(), TinySpec{}, [](NamedTensors& t) {
    for (auto& [name, tensor] : t) name = name.substr(std::string("transformer.").size());
    t.emplace_back("h.0.attn.bias", at::ones({1, 1, 64, 64}).tril());
  });
  TempDir modern;
  write_tiny_checkpoint(modern.path(), TinySpec{});
  const auto legacy = harness::load_model(dir.path(), {.device = "cpu"});
  const auto ref = harness::load_model(modern.path(), {.device = "cpu"});
  const auto ids = at::tensor(std::vector<int64_t>{5, 6, 7}, at::kLong).unsqueeze(0);
  EXPECT_TRUE(at::equal(legacy.model->forward(ids), ref.model->forward(ids)));
  EXPECT_EQ(harness::parameters_sha256(*legacy.model), harness::parameters_sha256(*ref.model));
}

}  // namespace
}  // namespace editgate::testing
