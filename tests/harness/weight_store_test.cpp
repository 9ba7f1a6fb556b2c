// WeightStore and write_weights: single-file and sharded checkpoints, the
// layout-independent fingerprint, and one test per index validation branch;
// plus the Sha256 unit the fingerprint uses.
#include "harness/weight_store.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "harness/input_error.h"
#include "harness/safetensors_writer.h"
#include "harness/sha256.h"

namespace fs = std::filesystem;
using editgate::InputError;
using editgate::harness::Sha256;
using editgate::harness::sha256_hex;
using editgate::harness::WeightStore;
using editgate::harness::write_safetensors;
using editgate::harness::write_weights;
using Named = std::vector<std::pair<std::string, at::Tensor>>;

namespace {

fs::path test_dir(const std::string& sub = "") {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  fs::path dir = fs::temp_directory_path() /
                 ("editgate_weights_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
  if (!sub.empty()) dir /= sub;
  fs::create_directories(dir);
  return dir;
}

// A small GPT-2-like set of tensors of several dtypes, ~1.3 KB in all.
Named sample_weights() {
  return {{"transformer.wte.weight", at::arange(64, at::kFloat).reshape({16, 4})},
          {"transformer.h.0.mlp.c_proj.weight", at::linspace(-1, 1, 96).to(at::kBFloat16).reshape({8, 12})},
          {"transformer.h.0.ln_1.bias", at::zeros({4}, at::kHalf)},
          {"transformer.h.0.attn.bias", at::ones({1, 1, 4, 4}, at::kBool)},
          {"transformer.h.0.ln_1.weight", at::ones({4}, at::kDouble)},
          {"lm_head.scale", at::scalar_tensor(2, at::kLong)}};
}

void write_text(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

// Opens `dir` and expects an InputError naming `path`, with `field` contained in
// the field and `text` in the message.
void expect_rejected(const fs::path& dir, const fs::path& path, std::string_view field, std::string_view text) {
  try {
    WeightStore::open_dir(dir);
    ADD_FAILURE() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.path(), path.string()) << e.what();
    EXPECT_NE(e.field().find(field), std::string::npos) << "field: " << e.field() << "\n" << e.what();
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }
}

// Two shards with tensors a, b in the first and c in the second, and an index
// built from `weight_map` JSON.
fs::path two_shards_with_index(const std::string& weight_map) {
  const fs::path dir = test_dir("ckpt");
  write_safetensors(dir / "s1.safetensors", {{"a", at::ones({2})}, {"b", at::ones({3})}});
  write_safetensors(dir / "s2.safetensors", {{"c", at::ones({4})}});
  write_text(dir / "model.safetensors.index.json", R"({"metadata":{"total_size":36},"weight_map":)" + weight_map + "}");
  return dir;
}

}  // namespace

TEST(Sha256, MatchesKnownDigestsAndStreams) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 streaming;
  streaming.update("a");
  streaming.update("");
  streaming.update("bc");
  EXPECT_EQ(streaming.hex_digest(), sha256_hex("abc"));
}

TEST(WeightStore, RoundTripsSingleFile) {
  const fs::path dir = test_dir();
  const Named weights = sample_weights();
  write_weights(dir, weights);
  EXPECT_TRUE(fs::exists(dir / "model.safetensors"));
  EXPECT_FALSE(fs::exists(dir / "model.safetensors.index.json"));
  const WeightStore store = WeightStore::open_dir(dir);
  EXPECT_EQ(store.files().size(), 1u);
  EXPECT_EQ(store.files()[0]->metadata().at("format"), "pt");
  std::vector<std::string> expected;
  for (const auto& [name, t] : weights) {
    expected.push_back(name);
    EXPECT_TRUE(store.contains(name));
    EXPECT_TRUE(at::equal(store.get(name), t)) << name;
    EXPECT_EQ(store.info(name).shape, t.sizes().vec());
  }
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(store.names(), expected);
  EXPECT_FALSE(store.contains("nope"));
  try {
    store.info("nope");
    ADD_FAILURE() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.path(), dir.string());
    EXPECT_EQ(e.field(), "tensor 'nope'");
  }
  EXPECT_THROW(store.get("nope"), InputError);
}

TEST(WeightStore, RoundTripsShardedCheckpoint) {
  const fs::path dir = test_dir();
  const Named weights = sample_weights();
  write_weights(dir, weights, 300);  // wte (256 B), then c_proj (192 B) and the rest (64 B)
  EXPECT_TRUE(fs::exists(dir / "model.safetensors.index.json"));
  EXPECT_FALSE(fs::exists(dir / "model.safetensors"));
  const WeightStore store = WeightStore::open_dir(dir);
  EXPECT_EQ(store.files().size(), 2u);
  for (const auto& file : store.files()) {
    uint64_t bytes = 0;
    for (const auto& t : file->tensors()) bytes += t.end - t.begin;
    EXPECT_LE(bytes, 300u) << file->path();
  }
  EXPECT_TRUE(fs::exists(dir / "model-00002-of-00002.safetensors"));
  for (const auto& [name, t] : weights) EXPECT_TRUE(at::equal(store.get(name), t)) << name;
  EXPECT_EQ(store.names().size(), weights.size());
}

TEST(WeightStore, TensorLargerThanShardLimitGetsItsOwnShard) {
  const fs::path dir = test_dir();
  write_weights(dir, {{"small", at::ones({2})}, {"big", at::ones({100})}, {"tail", at::ones({2})}}, 64);
  const WeightStore store = WeightStore::open_dir(dir);
  ASSERT_EQ(store.files().size(), 3u);
  EXPECT_EQ(store.files()[1]->tensors().size(), 1u);
  EXPECT_EQ(store.files()[1]->tensors()[0].name, "big");
}

TEST(WeightStore, Sha256IsIndependentOfShardingAndLayout) {
  const Named weights = sample_weights();
  Named reversed(weights.rbegin(), weights.rend());
  write_weights(test_dir("single"), weights);
  write_weights(test_dir("sharded"), reversed, 200);
  const WeightStore single = WeightStore::open_dir(test_dir("single"));
  const WeightStore sharded = WeightStore::open_dir(test_dir("sharded"));
  EXPECT_GT(sharded.files().size(), 1u);
  EXPECT_EQ(single.sha256(), sharded.sha256());
  EXPECT_EQ(single.sha256().size(), 64u);

  // Recompute from the documented definition.
  Sha256 expected;
  for (const auto& name : single.names()) {
    const auto& info = single.info(name);
    std::string shape = "[";
    for (size_t i = 0; i < info.shape.size(); ++i) shape += (i ? "," : "") + std::to_string(info.shape[i]);
    expected.update(name + '\0' + info.dtype_name + '\0' + shape + "]" + '\0');
    expected.update(single.bytes(name).data(), single.bytes(name).size());
  }
  EXPECT_EQ(single.sha256(), expected.hex_digest());

  // One changed value, dtype or name changes the fingerprint.
  Named changed = weights;
  changed[0].second = changed[0].second.clone();
  changed[0].second[0][0] = 0.5f;
  write_weights(test_dir("changed"), changed);
  EXPECT_NE(WeightStore::open_dir(test_dir("changed")).sha256(), single.sha256());
  Named recast = weights;
  recast[2].second = recast[2].second.to(at::kBFloat16);
  write_weights(test_dir("recast"), recast);
  EXPECT_NE(WeightStore::open_dir(test_dir("recast")).sha256(), single.sha256());
}

TEST(WeightStore, RewritingReplacesTheEarlierLayout) {
  const fs::path dir = test_dir();
  write_weights(dir, sample_weights(), 200);
  ASSERT_TRUE(fs::exists(dir / "model.safetensors.index.json"));
  write_weights(dir, {{"only", at::ones({2})}});
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator{}), 1) << "stale shards left";
  write_weights(dir, sample_weights(), 200);
  EXPECT_FALSE(fs::exists(dir / "model.safetensors"));
  EXPECT_EQ(WeightStore::open_dir(dir).names().size(), sample_weights().size());
}

TEST(WeightStore, WriteRejectsDuplicateNames) {
  const fs::path dir = test_dir();
  EXPECT_THROW(write_weights(dir, {{"a", at::ones({1})}, {"b", at::ones({1})}, {"a", at::ones({1})}}, 4),
               InputError);
  EXPECT_FALSE(fs::exists(dir / "model.safetensors.index.json"));
}

TEST(WeightStore, RejectsDirectoryWithoutWeights) {
  const fs::path dir = test_dir();
  expect_rejected(dir, dir, "weights", "got neither file");
  expect_rejected(dir / "missing", dir / "missing", "", "no such directory");
}

TEST(WeightStore, RejectsPytorchBinOnlyWithConvertHint) {
  const fs::path dir = test_dir();
  write_text(dir / "pytorch_model.bin", "pickle");
  expect_rejected(dir, dir, "weights", "convert with safetensors");
}

TEST(WeightStore, RejectsIndexThatIsNotValidJson) {
  const fs::path dir = two_shards_with_index(R"({"a":"s1.safetensors",)");
  expect_rejected(dir, dir / "model.safetensors.index.json", "", "valid JSON");
  write_text(dir / "model.safetensors.index.json", std::string(R"({"weight_map":{"a":"s1.safetensors"}})") + '\0' + "junk");
  expect_rejected(dir, dir / "model.safetensors.index.json", "", "a NUL byte at offset 37");
}

TEST(WeightStore, RejectsIndexWithoutWeightMapObject) {
  const fs::path dir = test_dir();
  write_text(dir / "model.safetensors.index.json", R"({"metadata":{}})");
  expect_rejected(dir, dir / "model.safetensors.index.json", "weight_map", "no weight_map key");
  write_text(dir / "model.safetensors.index.json", R"({"weight_map":["a"]})");
  expect_rejected(dir, dir / "model.safetensors.index.json", "weight_map", "got array");
  write_text(dir / "model.safetensors.index.json", R"({"weight_map":{}})");
  expect_rejected(dir, dir / "model.safetensors.index.json", "weight_map", "at least one tensor");
  write_text(dir / "model.safetensors.index.json", R"({"metadata":3,"weight_map":{"a":"x"}})");
  expect_rejected(dir, dir / "model.safetensors.index.json", "metadata", "got number");
}

TEST(WeightStore, RejectsWeightMapEntryThatIsNotAShardName) {
  for (const char* value : {"3", "\"../s1.safetensors\"", "\"/abs/s1.safetensors\"", "\"\""}) {
    SCOPED_TRACE(value);
    const fs::path dir = two_shards_with_index(std::string(R"({"a":)") + value + "}");
    expect_rejected(dir, dir / "model.safetensors.index.json", "weight_map: tensor 'a'", "shard file name");
  }
}

TEST(WeightStore, RejectsTensorListedTwiceInIndex) {
  const fs::path dir =
      two_shards_with_index(R"({"a":"s1.safetensors","a":"s2.safetensors","b":"s1.safetensors"})");
  expect_rejected(dir, dir / "model.safetensors.index.json", "weight_map: tensor 'a'", "each tensor listed once");
}

TEST(WeightStore, RejectsMissingShard) {
  const fs::path dir = two_shards_with_index(
      R"({"a":"s1.safetensors","b":"s1.safetensors","c":"s2.safetensors","d":"s3.safetensors"})");
  expect_rejected(dir, dir / "model.safetensors.index.json", "weight_map: tensor 'd'",
                  "shard 's3.safetensors'");
}

TEST(WeightStore, RejectsShardLackingTensor) {
  const fs::path dir =
      two_shards_with_index(R"({"a":"s1.safetensors","b":"s2.safetensors","c":"s2.safetensors"})");
  expect_rejected(dir, dir / "model.safetensors.index.json", "weight_map: tensor 'b'",
                  "'s2.safetensors' has no such tensor");
}

TEST(WeightStore, RejectsTensorPresentInTwoShards) {
  const fs::path dir = two_shards_with_index(R"({"a":"s1.safetensors","b":"s1.safetensors","c":"s2.safetensors"})");
  write_safetensors(dir / "s2.safetensors", {{"c", at::ones({4})}, {"a", at::ones({2})}});
  expect_rejected(dir, dir / "model.safetensors.index.json", "tensor 'a'",
                  "in both 's1.safetensors' and 's2.safetensors'");
}

TEST(WeightStore, RejectsShardTensorMissingFromIndex) {
  const fs::path dir = two_shards_with_index(R"({"a":"s1.safetensors","c":"s2.safetensors"})");
  expect_rejected(dir, dir / "model.safetensors.index.json", "weight_map", "an entry for tensor 'b'");
}

TEST(WeightStore, ReportsInvalidShardByItsOwnPath) {
  const fs::path dir = two_shards_with_index(R"({"a":"s1.safetensors","b":"s1.safetensors","c":"s2.safetensors"})");
  write_text(dir / "s2.safetensors", "short");
  expect_rejected(dir, dir / "s2.safetensors", "header length", "truncated download?");
}
