// Erasers in a random-weight model, over GPT-2 and Llama: installed at every
// position they replace the hook's activation by eraser(activation); installed
// at given positions they touch only those (earlier logits unchanged, also
// under a KV cache); activations collected after the eraser equal the erased
// ones; handles remove them; widths are checked.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <memory>

#include "editors/eraser_hook.h"
#include "editors/leace.h"
#include "harness/input_error.h"
#include "harness/scoring.h"
#include "tests/editors/synthetic_concept.h"
#include "tests/harness/tiny_checkpoint.h"

namespace editgate::testing {
namespace {

using harness::HookPoint;
using harness::HookSite;

// A rank-2 eraser of width `d` with a non-zero bias, as LEACE would produce.
editors::Eraser random_eraser(int64_t d, uint64_t seed) {
  const auto data = make_concept({.n = 400, .d = d, .k = 3, .linear = 2.0, .seed = seed});
  return editors::fit_leace(data).eraser;
}

using ErasersInModel = TinyModelTest;

at::Tensor ids_batch(int64_t vocab) {
  const auto rows = random_prompts({7, 7}, vocab, 5);
  return harness::pad_batch(rows, harness::Padding::kRight).ids;  // [2, 7]
}

at::Tensor cached_at(harness::Transformer& m, HookPoint point, const at::Tensor& ids) {
  auto seen = std::make_shared<at::Tensor>();
  auto h = m.hooks().add(point, harness::cache_into(seen));
  m.forward(ids);
  return *seen;
}

TEST_P(ErasersInModel, AtEveryPositionTheActivationIsErased) {
  const HookPoint point{0, HookSite::kResidPost};
  const auto ids = ids_batch(config().vocab_size);
  const at::Tensor before = cached_at(model(), point, ids);  // [2, 7, d]
  const auto eraser = random_eraser(config().d_model, 1);
  auto handle = editors::install_eraser(model(), point, eraser);
  // A second hook installed after the eraser sees the erased activation.
  const at::Tensor after = cached_at(model(), point, ids);
  EXPECT_LT(max_abs_diff(after, eraser.apply(before.to(at::kDouble))), 1e-5);
  EXPECT_GT(max_abs_diff(after, before), 1e-3);
}

TEST_P(ErasersInModel, AtGivenPositionsOnlyThoseAreTouched) {
  const HookPoint point{1, HookSite::kMlpPost};
  const auto ids = ids_batch(config().vocab_size);
  const at::Tensor base_logits = model().forward(ids);
  const at::Tensor before = cached_at(model(), point, ids);  // [2, 7, d_mlp]
  const auto eraser = random_eraser(config().d_mlp, 2);
  const std::vector<int64_t> positions = {4, 2};
  auto handle = editors::install_eraser(model(), point, eraser, positions);
  const at::Tensor after = cached_at(model(), point, ids);
  for (int64_t b = 0; b < 2; ++b) {
    for (int64_t p = 0; p < 7; ++p) {
      const at::Tensor expect = p == positions[b] ? eraser.apply(before[b][p].to(at::kDouble)) : before[b][p];
      EXPECT_LT(max_abs_diff(after[b][p], expect), 1e-5) << "row " << b << " position " << p;
    }
  }
  // Causality: logits before each row's erased position are unchanged, after it they move.
  const at::Tensor logits = model().forward(ids);
  for (int64_t b = 0; b < 2; ++b) {
    EXPECT_LT(max_abs_diff(logits[b].narrow(0, 0, positions[b]), base_logits[b].narrow(0, 0, positions[b])), 1e-5);
    EXPECT_GT(max_abs_diff(logits[b][positions[b]], base_logits[b][positions[b]]), 1e-4);
  }
  handle.remove();
  EXPECT_LT(max_abs_diff(model().forward(ids), base_logits), 1e-6);
  EXPECT_TRUE(model().hooks().empty());
}

TEST_P(ErasersInModel, PositionsCountFromTheStartUnderAKvCache) {
  const HookPoint point{0, HookSite::kResidPost};
  const auto ids = ids_batch(config().vocab_size);
  const auto eraser = random_eraser(config().d_model, 3);
  auto handle = editors::install_eraser(model(), point, eraser, {5, 5});
  const at::Tensor full = model().forward(ids);
  harness::KVCache cache;
  harness::ForwardOptions opts;
  opts.cache = &cache;
  model().forward(ids.narrow(1, 0, 3), opts);
  const at::Tensor rest = model().forward(ids.narrow(1, 3, 4), opts);
  EXPECT_LT(max_abs_diff(rest, full.narrow(1, 3, 4)), 1e-4);
}

TEST_P(ErasersInModel, AttentionZIsErasedOverItsFlattenedHeads) {
  const HookPoint point{0, HookSite::kAttnZ};
  const int64_t width = editors::hook_width(config(), HookSite::kAttnZ);
  EXPECT_EQ(width, config().n_heads * config().d_head);
  const auto ids = ids_batch(config().vocab_size);
  const at::Tensor before = cached_at(model(), point, ids);  // [2, 7, n_head, d_head]
  const auto eraser = random_eraser(width, 4);
  auto handle = editors::install_eraser(model(), point, eraser);
  const at::Tensor after = cached_at(model(), point, ids);
  EXPECT_EQ(after.sizes(), before.sizes());
  EXPECT_LT(max_abs_diff(after.flatten(2), eraser.apply(before.flatten(2).to(at::kDouble))), 1e-5);
}

TEST_P(ErasersInModel, CollectedActivationsAfterTheEraserAreTheErasedOnes) {
  const HookPoint point{1, HookSite::kResidPre};
  const auto prompts = random_prompts({5, 8, 3, 6}, config().vocab_size, 9);
  const std::vector<int64_t> positions = {4, 2, 2, 0};
  const at::Tensor before = editors::collect_activations(model(), point, prompts, positions, 3);  // [4, d]
  ASSERT_EQ(before.sizes(), (std::vector<int64_t>{4, config().d_model}));
  // Each row equals the activation of its prompt run alone (padding does not leak in).
  for (size_t i = 0; i < prompts.size(); ++i) {
    const auto one = editors::collect_activations(model(), point, {prompts[i]}, {positions[i]});
    EXPECT_LT(max_abs_diff(one[0], before[static_cast<int64_t>(i)]), 1e-5) << i;
  }
  const auto eraser = random_eraser(config().d_model, 5);
  auto handle = editors::install_eraser(model(), point, eraser, positions);
  // Installed for a batch of 4: collect all four in one batch so the rows line up.
  const at::Tensor after = editors::collect_activations(model(), point, prompts, positions, 4);
  EXPECT_LT(max_abs_diff(after, eraser.apply(before.to(at::kDouble))), 1e-5);
}

TEST_P(ErasersInModel, AnEraserOfTheWrongWidthIsAnInputError) {
  const auto eraser = random_eraser(config().d_model + 1, 6);
  EXPECT_THROW((void)editors::install_eraser(model(), {0, HookSite::kResidPost}, eraser), InputError);
  EXPECT_THROW((void)editors::install_eraser(model(), {0, HookSite::kMlpPost}, random_eraser(config().d_model, 6), {0}),
               InputError);
  EXPECT_TRUE(model().hooks().empty());
}

INSTANTIATE_TEST_SUITE_P(Architectures, ErasersInModel, ::testing::ValuesIn(tiny_architectures()), tiny_arch_name);

}  // namespace
}  // namespace editgate::testing
