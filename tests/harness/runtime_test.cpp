// The model runtime on tiny checkpoints written in C++ (tiny_checkpoint.h), for
// every architecture: checkpoint round trip, batched == unbatched (right and
// left padding), cached == uncached (forward and generation), and the stable
// editable-weight names. Hooks are in hooks_test.cpp, malformed checkpoints in
// checkpoint_test.cpp, agreement with transformers in conformance_test.cpp.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <map>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>

#include "harness/checkpoint.h"
#include "harness/device.h"
#include "harness/generation.h"
#include "harness/hooks.h"
#include "harness/input_error.h"
#include "harness/length_batches.h"
#include "harness/scoring.h"
#include "harness/text_model.h"
#include "harness/tokenizer.h"
#include "harness/weight_store.h"
#include "harness/wordlevel_tokenizer.h"
#include "tests/harness/tiny_checkpoint.h"

namespace editgate::testing {
namespace {

using harness::ForwardOptions;
using harness::KVCache;
using harness::Padding;

constexpr double kTol = 1e-5;
const std::vector<int64_t> kMixedLengths = {5, 9, 1, 7};

using Runtime = TinyModelTest;

// Each prompt alone, no mask: logits [len, vocab].
std::vector<at::Tensor> unbatched_logits(harness::Transformer& model, const std::vector<std::vector<int64_t>>& prompts) {
  std::vector<at::Tensor> out;
  for (const auto& p : prompts) out.push_back(model.forward(at::tensor(p, at::kLong).unsqueeze(0))[0]);
  return out;
}

TEST_P(Runtime, SaveLoadRoundTripIsBitIdentical) {
  const auto saved = dir_ / "saved";
  harness::save_model(model(), saved, ckpt_dir());
  const auto again = harness::load_model(saved);
  ASSERT_EQ(again.model->parameters().size(), model().parameters().size());
  for (const auto& [name, t] : model().parameters()) {
    const auto& other = again.model->parameters().at(name);
    EXPECT_TRUE(at::equal(t.cpu(), other.cpu())) << name;
  }
  EXPECT_EQ(again.model->config().raw, config().raw);
  // The fingerprint of the source, of the in-memory model and of what it saved agree.
  const std::string model_sha = harness::parameters_sha256(model());
  EXPECT_EQ(model_sha, harness::WeightStore::open_dir(saved).sha256());
  EXPECT_EQ(model_sha, again.weights_sha256);
  EXPECT_EQ(model_sha, loaded_.weights_sha256);
  const auto ids = at::tensor(std::vector<int64_t>{3, 1, 4, 1, 5}, at::kLong).unsqueeze(0);
  EXPECT_TRUE(at::equal(model().forward(ids).cpu(), again.model->forward(ids).cpu()));
}

TEST_P(Runtime, Bf16CheckpointComputesInFloat32AndSavesBackBitIdentical) {
  NamedTensors tensors = tiny_tensors(GetParam().spec);
  for (auto& [name, t] : tensors) t = t.to(at::kBFloat16);
  const auto bf16_dir = dir_ / "bf16";
  write_checkpoint(bf16_dir, tiny_config(GetParam().spec), tensors);
  const auto bf16 = harness::load_model(bf16_dir, {.device = "cpu"});
  EXPECT_EQ(bf16.stored_dtype, at::kBFloat16);
  for (const auto& [name, t] : tensors) {
    const auto& p = bf16.model->parameters().at(name);
    EXPECT_EQ(p.scalar_type(), at::kFloat) << name;
    EXPECT_TRUE(at::equal(p, t.to(at::kFloat))) << name;
  }
  EXPECT_EQ(harness::parameters_sha256(*bf16.model, at::kBFloat16), bf16.weights_sha256);
  const auto saved = dir_ / "bf16_saved";
  harness::save_model(*bf16.model, saved, bf16_dir, at::kBFloat16);
  EXPECT_EQ(harness::WeightStore::open_dir(saved).sha256(), bf16.weights_sha256);
}

TEST_P(Runtime, ShardedCheckpointLoadsLikeSingleFile) {
  const auto sharded = dir_ / "sharded";
  write_tiny_checkpoint(sharded, GetParam().spec, /*max_shard_bytes=*/8192);
  ASSERT_TRUE(std::filesystem::exists(sharded / "model.safetensors.index.json"));
  const auto other = harness::load_model(sharded);
  EXPECT_EQ(other.weights_sha256, loaded_.weights_sha256);
  for (const auto& [name, t] : model().parameters()) {
    EXPECT_TRUE(at::equal(t.cpu(), other.model->parameters().at(name).cpu())) << name;
  }
}

TEST_P(Runtime, RightPaddedBatchMatchesUnbatched) {
  const auto prompts = random_prompts(kMixedLengths, config().vocab_size, 11);
  const auto single = unbatched_logits(model(), prompts);
  const auto batch = harness::pad_batch(prompts, Padding::kRight);
  ForwardOptions opts;
  opts.attention_mask = batch.mask;
  const auto logits = model().forward(batch.ids, opts);
  for (size_t b = 0; b < prompts.size(); ++b) {
    const int64_t len = static_cast<int64_t>(prompts[b].size());
    EXPECT_LT(max_abs_diff(logits[b].narrow(0, 0, len), single[b]), kTol) << "row " << b;
  }
}

TEST_P(Runtime, LeftPaddedBatchMatchesUnbatched) {
  const auto prompts = random_prompts(kMixedLengths, config().vocab_size, 12);
  const auto single = unbatched_logits(model(), prompts);
  const auto batch = harness::pad_batch(prompts, Padding::kLeft);
  ForwardOptions opts;
  opts.attention_mask = batch.mask;
  const auto logits = model().forward(batch.ids, opts);
  // Explicit position ids as transformers' generate makes them (pads at 1) change nothing.
  ForwardOptions explicit_pos = opts;
  explicit_pos.position_ids = (batch.mask.cumsum(1) - 1).masked_fill(batch.mask.eq(0), 1);
  const auto logits_explicit = model().forward(batch.ids, explicit_pos);
  for (size_t b = 0; b < prompts.size(); ++b) {
    const int64_t len = static_cast<int64_t>(prompts[b].size());
    const int64_t off = batch.offsets[b];
    EXPECT_EQ(off, batch.ids.size(1) - len);
    EXPECT_LT(max_abs_diff(logits[b].narrow(0, off, len), single[b]), kTol) << "row " << b;
    EXPECT_LT(max_abs_diff(logits_explicit[b].narrow(0, off, len), single[b]), kTol) << "row " << b;
  }
}

TEST_P(Runtime, ScoreMatchesLogSoftmaxOfUnbatchedForward) {
  const auto seqs = random_prompts({6, 3, 9, 2}, config().vocab_size, 13);
  const std::vector<int64_t> prompt_lens = {2, 1, 5, 1};
  std::vector<harness::ScoreItem> items;
  for (size_t i = 0; i < seqs.size(); ++i) {
    items.push_back({{seqs[i].begin(), seqs[i].begin() + prompt_lens[i]}, {seqs[i].begin() + prompt_lens[i], seqs[i].end()}});
  }
  for (Padding padding : {Padding::kRight, Padding::kLeft}) {
    const auto batched = harness::score(model(), items, /*max_batch=*/64, padding);
    const auto one_by_one = harness::score(model(), items, /*max_batch=*/1, padding);
    ASSERT_EQ(batched.size(), items.size());
    for (size_t i = 0; i < items.size(); ++i) {
      const auto lp = at::log_softmax(unbatched_logits(model(), {seqs[i]})[0].to(at::kDouble), -1).cpu();
      ASSERT_EQ(batched[i].token_logprobs.size(), items[i].continuation.size());
      for (size_t t = 0; t < items[i].continuation.size(); ++t) {
        const int64_t row = prompt_lens[i] - 1 + static_cast<int64_t>(t);
        const double want = lp[row][items[i].continuation[t]].item<double>();
        EXPECT_NEAR(batched[i].token_logprobs[t], want, kTol) << "item " << i << " token " << t;
        EXPECT_NEAR(one_by_one[i].token_logprobs[t], want, kTol) << "item " << i << " token " << t;
        EXPECT_EQ(batched[i].argmax[t], lp[row].argmax().item<int64_t>()) << "item " << i << " token " << t;
      }
    }
  }
  // next_token_logprobs: the distribution after each whole sequence.
  const auto next = harness::next_token_logprobs(model(), seqs);
  for (size_t i = 0; i < seqs.size(); ++i) {
    const auto want = at::log_softmax(unbatched_logits(model(), {seqs[i]})[0][-1], -1);
    EXPECT_LT(max_abs_diff(next[i], want), kTol) << "prompt " << i;
  }
}

TEST_P(Runtime, LogitPositionsGiveTheFullForwardsRows) {
  const auto prompts = random_prompts(kMixedLengths, config().vocab_size, 15);
  const auto batch = harness::pad_batch(prompts, Padding::kRight);
  ForwardOptions opts;
  opts.attention_mask = batch.mask;
  const auto full = model().forward(batch.ids, opts);
  // Different columns per row, one repeated: each row gets exactly those rows of the full logits.
  opts.logit_positions = at::tensor(std::vector<int64_t>{4, 0, 8, 3, 0, 0, 6, 6}, at::kLong).view({4, 2});
  const auto some = model().forward(batch.ids, opts);
  ASSERT_EQ(some.sizes(), (at::IntArrayRef{4, 2, config().vocab_size}));
  for (int64_t b = 0; b < 4; ++b) {
    for (int64_t j = 0; j < 2; ++j) {
      const int64_t col = opts.logit_positions[b][j].item<int64_t>();
      EXPECT_LT(max_abs_diff(some[b][j], full[b][col]), kTol) << "row " << b << " column " << col;
    }
  }
  opts.logit_positions = at::full({4, 1}, batch.ids.size(1), at::kLong);  // one past the last column
  EXPECT_THROW(model().forward(batch.ids, opts), c10::Error);
}

// Rows of mixed length are grouped by length into several passes, but not while a
// hook is installed: a hook may address rows by their index (an eraser at each row's
// position), so the caller's rows then go through in order, one pass per max_batch.
TEST_P(Runtime, ScoreKeepsTheCallersBatchWhileAHookIsInstalled) {
  const auto seqs = random_prompts({2, 2, 2, 2, 40, 40, 40, 40}, config().vocab_size, 17);
  std::vector<harness::ScoreItem> items;
  for (const auto& s : seqs) items.push_back({{s.begin(), s.end() - 1}, {s.back()}});
  std::vector<int64_t> batch_rows;
  const auto record = [&](at::Tensor& act, const harness::HookContext&) { batch_rows.push_back(act.size(0)); };
  {
    auto handle = model().hooks().add({0, harness::HookSite::kResidPre}, record);
    const auto hooked = harness::score(model(), items, 64);
    EXPECT_EQ(batch_rows, std::vector<int64_t>{8}) << "one pass, the caller's batch";
    handle.remove();
    const auto plain = harness::score(model(), items, 64);
    for (size_t i = 0; i < items.size(); ++i) EXPECT_NEAR(hooked[i].token_logprobs[0], plain[i].token_logprobs[0], kTol);
  }
  // Without a hook these rows (lengths 1 and 39) would take two passes: the hook made the difference.
  const auto passes = harness::length_batches({1, 1, 1, 1, 39, 39, 39, 39}, 64);
  EXPECT_EQ(passes.size(), 2u);
}

TEST_P(Runtime, CachedForwardMatchesFullForward) {
  const auto prompts = random_prompts({7, 10, 4}, config().vocab_size, 14);
  const auto batch = harness::pad_batch(prompts, Padding::kLeft);
  ForwardOptions full_opts;
  full_opts.attention_mask = batch.mask;
  const auto full = model().forward(batch.ids, full_opts);
  // Prefill 4 columns, then chunks of 2, then single tokens.
  KVCache cache;
  std::vector<at::Tensor> parts;
  const int64_t width = batch.ids.size(1);
  for (int64_t start = 0; start < width;) {
    const int64_t n = start == 0 ? 4 : std::min<int64_t>(start < 8 ? 2 : 1, width - start);
    ForwardOptions opts;
    opts.attention_mask = batch.mask.narrow(1, start, n);
    opts.cache = &cache;
    parts.push_back(model().forward(batch.ids.narrow(1, start, n), opts));
    EXPECT_EQ(cache.length(), start + n);
    start += n;
  }
  ASSERT_EQ(cache.keys.size(), static_cast<size_t>(config().n_layers));
  EXPECT_EQ(cache.keys[0].sizes(), (std::vector<int64_t>{3, config().n_kv_heads, width, config().d_head}));
  const auto cached = at::cat(parts, 1);
  for (size_t b = 0; b < prompts.size(); ++b) {
    const int64_t off = batch.offsets[b];
    const int64_t len = width - off;
    EXPECT_LT(max_abs_diff(cached[b].narrow(0, off, len), full[b].narrow(0, off, len)), kTol) << "row " << b;
  }
}

TEST_P(Runtime, CachedGenerationMatchesUncached) {
  const auto prompts = random_prompts(kMixedLengths, config().vocab_size, 15);
  harness::GenerateOptions cached_opts;
  cached_opts.max_new_tokens = 12;
  harness::GenerateOptions uncached_opts = cached_opts;
  uncached_opts.use_cache = false;
  const auto cached = harness::generate_greedy(model(), prompts, cached_opts);
  const auto uncached = harness::generate_greedy(model(), prompts, uncached_opts);
  EXPECT_EQ(cached, uncached);
  // Batched generation (left padding) gives each prompt what it gets alone.
  for (size_t b = 0; b < prompts.size(); ++b) {
    EXPECT_EQ(harness::generate_greedy(model(), {prompts[b]}, cached_opts)[0], cached[b]) << "prompt " << b;
    EXPECT_EQ(cached[b].size(), 12u);
  }
  // And the tokens are the argmax of a full forward pass over prompt + generated.
  for (size_t b = 0; b < prompts.size(); ++b) {
    auto seq = prompts[b];
    seq.insert(seq.end(), cached[b].begin(), cached[b].end() - 1);
    const auto argmax = unbatched_logits(model(), {seq})[0].argmax(-1).cpu();
    for (size_t t = 0; t < cached[b].size(); ++t) {
      EXPECT_EQ(argmax[static_cast<int64_t>(prompts[b].size() - 1 + t)].item<int64_t>(), cached[b][t]);
    }
  }
  // A stop token ends a row and is kept.
  harness::GenerateOptions stop_opts = cached_opts;
  stop_opts.stop_token = cached[0][2];
  const auto stopped = harness::generate_greedy(model(), {prompts[0]}, stop_opts)[0];
  ASSERT_FALSE(stopped.empty());
  EXPECT_EQ(stopped.back(), cached[0][2]);
  EXPECT_LE(stopped.size(), 3u);
}

// NaN that appears only at generated tokens (past the prompt) is caught at the
// step it appears and named by hook point, with the cache on and off.
TEST_P(Runtime, GenerationStopsAtANonFiniteGeneratedToken) {
  const auto prompts = random_prompts({4, 6}, config().vocab_size, 16);
  const int64_t prompt_len = 6;  // left padding: generated tokens start at position 6
  const harness::HookPoint point{1, harness::HookSite::kResidPost};
  auto poison = model().hooks().add(point, [&](at::Tensor& act, const harness::HookContext& ctx) {
    const int64_t first = std::max<int64_t>(prompt_len + 1 - ctx.position_offset, 0);  // the second generated token on
    if (first < act.size(1)) {
      act = act.clone();
      act.narrow(1, first, act.size(1) - first).fill_(std::numeric_limits<float>::quiet_NaN());
    }
  });
  for (bool cache : {true, false}) {
    harness::GenerateOptions o;
    o.max_new_tokens = 4;
    o.use_cache = cache;
    try {
      harness::generate_greedy(model(), prompts, o);
      ADD_FAILURE() << "no error (cache " << cache << ")";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(point.to_string()), std::string::npos) << e.what();
    }
  }
  poison.remove();
  EXPECT_EQ(harness::generate_greedy(model(), prompts, {.max_new_tokens = 4}).size(), 2u);  // clean again
}

TEST_P(Runtime, WeightOutIsDModelByDMlpAndEditsInPlace) {
  const auto& c = config();
  auto w_out = model().weight("blocks.0.mlp.W_out");
  EXPECT_EQ(w_out.sizes(), (std::vector<int64_t>{c.d_model, c.d_mlp}));
  EXPECT_EQ(model().weight("blocks.1.mlp.W_in").sizes(), (std::vector<int64_t>{c.d_mlp, c.d_model}));
  EXPECT_EQ(model().weight("blocks.1.attn.W_O").sizes(), (std::vector<int64_t>{c.d_model, c.n_heads * c.d_head}));
  const auto ref = model().weight_ref("blocks.0.mlp.W_out");
  EXPECT_EQ(ref.transposed, c.model_type == "gpt2");
  const std::map<std::string, std::string> w_out_tensor = {{"gpt2", "transformer.h.0.mlp.c_proj.weight"},
                                                           {"llama", "model.layers.0.mlp.down_proj.weight"},
                                                           {"gptj", "transformer.h.0.mlp.fc_out.weight"},
                                                           {"gpt_neox", "gpt_neox.layers.0.mlp.dense_4h_to_h.weight"}};
  EXPECT_EQ(ref.tensor_name, w_out_tensor.at(c.model_type));

  const auto ids = at::tensor(std::vector<int64_t>{2, 7, 1, 8, 2, 8}, at::kLong).unsqueeze(0);
  const auto before = model().forward(ids);
  const auto delta = 0.05 * at::randn(w_out.sizes(), w_out.options());
  w_out.add_(delta);
  // The stored tensor changed, in its own layout.
  const auto& stored = model().parameter(ref.tensor_name);
  EXPECT_TRUE(at::equal(ref.transposed ? stored.t() : stored, model().weight("blocks.0.mlp.W_out")));
  const auto after = model().forward(ids);
  EXPECT_GT(max_abs_diff(before, after), 1e-3);
  // Undoing the edit through a fresh view restores the model.
  model().weight("blocks.0.mlp.W_out").sub_(delta);
  EXPECT_LT(max_abs_diff(before, model().forward(ids)), kTol);
}

TEST_P(Runtime, UnknownWeightNameListsValidOnes) {
  for (const char* bad : {"blocks.0.mlp.W_bogus", "blocks.9.mlp.W_out", "mlp.W_out", "blocks.x.mlp.W_out"}) {
    try {
      model().weight(bad);
      ADD_FAILURE() << bad << ": no InputError";
    } catch (const InputError& e) {
      EXPECT_EQ(e.field(), "weight") << e.what();
      EXPECT_NE(e.got().find(bad), std::string::npos) << e.what();
      EXPECT_NE(e.expected().find("blocks.0.mlp.W_out"), std::string::npos) << e.what();
      EXPECT_NE(e.expected().find("blocks.0.mlp.W_in"), std::string::npos) << e.what();
    }
  }
  const auto names = model().editable_weight_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "blocks.1.mlp.W_out"), names.end());
}

TEST_P(Runtime, OnlyLearnedPositionsLimitTheSequenceLength) {
  const auto ids = at::zeros({1, config().max_positions + 1}, at::kLong);
  if (config().model_type == "gpt2") {
    EXPECT_THROW(model().forward(ids), c10::Error);  // no row in wpe for the last token
  } else {
    EXPECT_EQ(model().forward(ids).size(1), config().max_positions + 1);  // RoPE extrapolates
  }
}

// TextModel::from_memory (the benchmarks' random-weight models, never written) behaves
// like TextModel::load of the same files: BOS rule, prompt ids, logits; no directory.
TEST_P(Runtime, TextModelFromMemoryMatchesLoad) {
  // Llama: BOS in the post_processor, as Llama 3's tokenizer.json; GPT-2, GPT-J and Pythia: none.
  const bool bos = config().model_type == "llama";
  std::ofstream(ckpt_dir() / "tokenizer.json")
      << harness::wordlevel_tokenizer_json({"<bos>", "a", "b", "c"}, "<unk>", {"<bos>"}, bos ? "<bos>" : "");
  auto loaded = harness::TextModel::load(ckpt_dir());
  auto in_memory =
      harness::TextModel::from_memory(harness::load_model(ckpt_dir()).model, harness::load_tokenizer(ckpt_dir()));
  EXPECT_EQ(in_memory.adds_bos(), bos);
  EXPECT_EQ(in_memory.adds_bos(), loaded.adds_bos());
  const auto prompt = in_memory.encode_prompt("a c b");
  EXPECT_EQ(prompt, loaded.encode_prompt("a c b"));
  EXPECT_TRUE(in_memory.dir().empty());
  const auto ids = at::tensor(prompt, at::kLong).unsqueeze(0);
  EXPECT_TRUE(at::equal(in_memory.model().forward(ids).cpu(), loaded.model().forward(ids).cpu()));
}

INSTANTIATE_TEST_SUITE_P(Architectures, Runtime, ::testing::ValuesIn(tiny_architectures()), tiny_arch_name);

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value, 1);
  }
  ~ScopedEnv() { old_ ? ::setenv(name_, old_->c_str(), 1) : ::unsetenv(name_); }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(Device, FlagAndEnvironmentChooseTheDevice) {
  EXPECT_EQ(harness::resolve_device("cpu"), at::Device(at::kCPU));
  {
    ScopedEnv env("EDITGATE_DEVICE", "cpu");
    EXPECT_EQ(harness::resolve_device("auto"), at::Device(at::kCPU));
  }
  {
    ScopedEnv env("EDITGATE_DEVICE", "tpu");
    try {
      harness::resolve_device("auto");
      ADD_FAILURE() << "no InputError";
    } catch (const InputError& e) {
      EXPECT_EQ(e.field(), "EDITGATE_DEVICE") << e.what();
      EXPECT_NE(e.got().find("tpu"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(harness::resolve_device("gpu"), InputError);
  EXPECT_THROW(harness::resolve_device("cuda:x"), InputError);
  if (!harness::cuda_available()) {
    try {
      harness::resolve_device("cuda");
      ADD_FAILURE() << "no InputError";
    } catch (const InputError& e) {
      EXPECT_EQ(e.field(), "--device");
      EXPECT_NE(e.hint().find("--device cpu"), std::string::npos) << e.what();
    }
  }
}

TEST(Device, CpuComputesInFloat32UnlessAsked) {
  const at::Device cpu(at::kCPU);
  EXPECT_EQ(harness::resolve_compute_dtype(cpu, "auto", at::kBFloat16), at::kFloat);
  EXPECT_EQ(harness::resolve_compute_dtype(cpu, "auto", at::kHalf), at::kFloat);
  EXPECT_EQ(harness::resolve_compute_dtype(cpu, "bf16", at::kFloat), at::kBFloat16);
  EXPECT_EQ(harness::resolve_compute_dtype(at::Device(at::kCUDA, 0), "auto", at::kHalf), at::kHalf);
  EXPECT_THROW(harness::resolve_compute_dtype(cpu, "f8", at::kFloat), InputError);
}

}  // namespace
}  // namespace editgate::testing
