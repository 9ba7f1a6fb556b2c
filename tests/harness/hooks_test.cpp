// Hook points of the runtime on tiny checkpoints of every architecture:
// identity hooks change nothing, ablations change logits, handles remove their
// hooks, cache_into sees the documented shapes, and the position-targeted
// hooks touch only their positions (also under a KV cache). Plus hook-name parsing.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <memory>

#include "harness/hooks.h"
#include "harness/input_error.h"
#include "harness/scoring.h"
#include "tests/harness/tiny_checkpoint.h"

namespace editgate::testing {
namespace {

using harness::ForwardOptions;
using harness::HookContext;
using harness::HookPoint;
using harness::HookSite;

constexpr double kTol = 1e-5;
constexpr HookSite kAllSites[] = {HookSite::kResidPre, HookSite::kAttnZ,   HookSite::kAttnOut,  HookSite::kMlpPre,
                                  HookSite::kMlpPost,  HookSite::kMlpOut, HookSite::kResidPost};

using Hooks = TinyModelTest;

at::Tensor prompt_batch(int64_t vocab, int64_t batch, int64_t pos, uint64_t seed) {
  const auto rows = random_prompts(std::vector<int64_t>(batch, pos), vocab, seed);
  return harness::pad_batch(rows, harness::Padding::kRight).ids;  // all the same length: no padding
}

TEST_P(Hooks, IdentityReplacementChangesNothingAtEveryHookPoint) {
  const auto ids = prompt_batch(config().vocab_size, 2, 6, 21);
  const auto base = model().forward(ids);
  for (int64_t l = 0; l < config().n_layers; ++l) {
    for (HookSite site : kAllSites) {
      const HookPoint point{l, site};
      {
        auto handle = model().hooks().add(point, [](at::Tensor& act, const HookContext&) { act = act.clone(); });
        EXPECT_TRUE(at::equal(model().forward(ids), base)) << point.to_string() << " (clone)";
      }
      // The same through replace_at_positions, fed the activation's own values.
      auto seen = std::make_shared<at::Tensor>();
      { auto h = model().hooks().add(point, harness::cache_into(seen)); model().forward(ids); }
      const std::vector<int64_t> positions = {1, 5};
      const auto own = at::stack({(*seen)[0][1], (*seen)[1][5]});
      auto handle = model().hooks().add(point, harness::replace_at_positions(positions, own));
      EXPECT_TRUE(at::equal(model().forward(ids), base)) << point.to_string() << " (replace_at_positions)";
    }
  }
  EXPECT_TRUE(model().hooks().empty());
}

TEST_P(Hooks, ZeroingMlpOutChangesLogits) {
  const auto ids = prompt_batch(config().vocab_size, 2, 6, 22);
  const auto base = model().forward(ids);
  for (int64_t l = 0; l < config().n_layers; ++l) {
    auto handle = model().hooks().add({l, HookSite::kMlpOut}, [](at::Tensor& act, const HookContext&) {
      act = at::zeros_like(act);
    });
    const auto ablated = model().forward(ids);
    EXPECT_GT(max_abs_diff(ablated, base), 1e-2) << "layer " << l;
    EXPECT_FALSE(ablated.isnan().any().item<bool>());
  }
}

TEST_P(Hooks, HandlesRemoveTheirHooksWhenTheyGoOutOfScope) {
  const auto ids = prompt_batch(config().vocab_size, 1, 5, 23);
  const auto base = model().forward(ids);
  auto& hooks = model().hooks();
  const HookPoint point{0, HookSite::kMlpOut};
  const auto zero = [](at::Tensor& act, const HookContext&) { act = at::zeros_like(act); };
  int calls = 0;
  {
    auto handle = hooks.add(point, zero);
    auto counter = hooks.add({1, HookSite::kResidPre}, [&](at::Tensor&, const HookContext&) { ++calls; });
    EXPECT_TRUE(hooks.active(point));
    EXPECT_GT(max_abs_diff(model().forward(ids), base), 1e-2);
    EXPECT_EQ(calls, 1);
    harness::HookHandle moved = std::move(handle);  // the hook follows the handle
    EXPECT_GT(max_abs_diff(model().forward(ids), base), 1e-2);
    moved.remove();
    EXPECT_FALSE(hooks.active(point));
    EXPECT_TRUE(at::equal(model().forward(ids), base));
    EXPECT_EQ(calls, 3);
  }
  EXPECT_TRUE(hooks.empty());
  EXPECT_FALSE(hooks.active({1, HookSite::kResidPre}));
  model().forward(ids);
  EXPECT_EQ(calls, 3);
  EXPECT_TRUE(at::equal(model().forward(ids), base));
}

TEST_P(Hooks, CacheIntoCapturesDocumentedShapes) {
  const auto& c = config();
  const int64_t batch = 3, pos = 7;
  const auto ids = prompt_batch(c.vocab_size, batch, pos, 24);
  std::map<std::pair<int64_t, int>, std::shared_ptr<at::Tensor>> seen;
  std::vector<harness::HookHandle> handles;
  for (int64_t l = 0; l < c.n_layers; ++l) {
    for (HookSite site : kAllSites) {
      auto out = std::make_shared<at::Tensor>();
      seen[{l, static_cast<int>(site)}] = out;
      handles.push_back(model().hooks().add({l, site}, harness::cache_into(out)));
    }
  }
  model().forward(ids);
  const auto get = [&](int64_t l, HookSite s) { return *seen.at({l, static_cast<int>(s)}); };
  const std::vector<int64_t> resid = {batch, pos, c.d_model};
  const std::vector<int64_t> mlp = {batch, pos, c.d_mlp};
  for (int64_t l = 0; l < c.n_layers; ++l) {
    EXPECT_EQ(get(l, HookSite::kResidPre).sizes(), resid);
    EXPECT_EQ(get(l, HookSite::kAttnZ).sizes(), (std::vector<int64_t>{batch, pos, c.n_heads, c.d_head}));
    EXPECT_EQ(get(l, HookSite::kAttnOut).sizes(), resid);
    EXPECT_EQ(get(l, HookSite::kMlpPre).sizes(), mlp);
    EXPECT_EQ(get(l, HookSite::kMlpPost).sizes(), mlp);
    EXPECT_EQ(get(l, HookSite::kMlpOut).sizes(), resid);
    EXPECT_EQ(get(l, HookSite::kResidPost).sizes(), resid);
    // The residual stream adds up, and flows from one block to the next.
    const auto sum = get(l, HookSite::kResidPre) + get(l, HookSite::kAttnOut) + get(l, HookSite::kMlpOut);
    EXPECT_LT(max_abs_diff(sum, get(l, HookSite::kResidPost)), kTol) << "layer " << l;
    if (l + 1 < c.n_layers) {
      EXPECT_TRUE(at::equal(get(l, HookSite::kResidPost), get(l + 1, HookSite::kResidPre)));
    }
    // hook_post is the input of W_out ([d_model, d_mlp]) and hook_mlp_out its output: ROME's keys and values.
    const std::string w = "blocks." + std::to_string(l) + ".mlp.W_out";
    auto projected = at::matmul(get(l, HookSite::kMlpPost), model().weight(w).t());
    const std::string weight_name = model().weight_ref(w).tensor_name;  // "...weight" -> "...bias", if there is one
    const auto bias = model().parameters().find(weight_name.substr(0, weight_name.size() - 6) + "bias");
    if (bias != model().parameters().end()) projected = projected + bias->second;
    EXPECT_LT(max_abs_diff(projected, get(l, HookSite::kMlpOut)), kTol) << w;
  }
}

// Runs `ids` with `fn` at `point`, capturing the activation before and after it.
struct Patched {
  at::Tensor logits, before, after;
};
Patched run_patched(harness::Transformer& model, const at::Tensor& ids, HookPoint point, harness::HookFn fn) {
  auto before = std::make_shared<at::Tensor>();
  auto after = std::make_shared<at::Tensor>();
  auto h1 = model.hooks().add(point, harness::cache_into(before));  // hooks run in installation order
  auto h2 = model.hooks().add(point, std::move(fn));
  auto h3 = model.hooks().add(point, harness::cache_into(after));
  return {model.forward(ids), *before, *after};
}

TEST_P(Hooks, PositionHooksTouchOnlyChosenPositions) {
  const auto& c = config();
  const auto ids = prompt_batch(c.vocab_size, 3, 6, 25);
  const auto base = model().forward(ids);
  const std::vector<int64_t> positions = {1, 4, 0};
  for (const HookPoint point : {HookPoint{1, HookSite::kResidPre}, HookPoint{0, HookSite::kMlpPost}}) {
    const int64_t width = point.site == HookSite::kMlpPost ? c.d_mlp : c.d_model;
    const auto values = at::randn({3, width});
    for (bool add : {false, true}) {
      auto fn = add ? harness::add_at_positions(positions, values) : harness::replace_at_positions(positions, values);
      const auto r = run_patched(model(), ids, point, std::move(fn));
      for (int64_t b = 0; b < 3; ++b) {
        for (int64_t t = 0; t < 6; ++t) {
          // The hook takes host values on any device (the model moves them); compare where the activations are.
          const auto value = values[b].to(r.before.device());
          const auto want = t != positions[b] ? r.before[b][t] : add ? r.before[b][t] + value : value;
          EXPECT_LT(max_abs_diff(r.after[b][t], want), 1e-6) << point.to_string() << " row " << b << " pos " << t;
        }
        // Causal: logits before the patched position are untouched, at it they move.
        const int64_t p = positions[b];
        EXPECT_TRUE(at::equal(r.logits[b].narrow(0, 0, p), base[b].narrow(0, 0, p))) << "row " << b;
        EXPECT_GT(max_abs_diff(r.logits[b][p], base[b][p]), 1e-3) << "row " << b;
      }
    }
  }
}

TEST_P(Hooks, PositionHooksWorkUnderKvCache) {
  const auto& c = config();
  const auto ids = prompt_batch(c.vocab_size, 3, 7, 26);
  // Positions in the prefill (1), in a two-token chunk (4) and in the last step (6).
  const std::vector<int64_t> positions = {1, 4, 6};
  const HookPoint point{0, HookSite::kResidPost};
  const auto values = at::randn({3, c.d_model});
  for (bool add : {false, true}) {
    const auto make = [&] {
      return add ? harness::add_at_positions(positions, values) : harness::replace_at_positions(positions, values);
    };
    at::Tensor full;
    { auto h = model().hooks().add(point, make()); full = model().forward(ids); }
    auto h = model().hooks().add(point, make());
    harness::KVCache cache;
    std::vector<at::Tensor> parts;
    for (auto [start, n] : std::vector<std::pair<int64_t, int64_t>>{{0, 3}, {3, 2}, {5, 1}, {6, 1}}) {
      ForwardOptions opts;
      opts.cache = &cache;
      parts.push_back(model().forward(ids.narrow(1, start, n), opts));
    }
    EXPECT_LT(max_abs_diff(at::cat(parts, 1), full), kTol) << (add ? "add" : "replace");
  }
}

TEST(HookNames, RoundTripEverySite) {
  for (int64_t l : {0, 3, 47}) {
    for (HookSite site : kAllSites) {
      const HookPoint point{l, site};
      EXPECT_EQ(harness::parse_hook_name(point.to_string()), point) << point.to_string();
    }
  }
  EXPECT_EQ(HookPoint({2, HookSite::kMlpPost}).to_string(), "blocks.2.mlp.hook_post");
  EXPECT_EQ(HookPoint({0, HookSite::kAttnZ}).to_string(), "blocks.0.attn.hook_z");
}

TEST(HookNames, UnknownNamesListValidOnes) {
  for (const char* bad : {"blocks.0.hook_nonsense", "blocks.0.mlp.hook_out", "resid_pre", "blocks.-1.hook_resid_pre",
                          "blocks..hook_resid_pre", "blocks.1"}) {
    try {
      harness::parse_hook_name(bad, 4, "--hook");
      ADD_FAILURE() << bad << ": no InputError";
    } catch (const InputError& e) {
      EXPECT_EQ(e.path(), "--hook") << e.what();
      EXPECT_EQ(e.field(), "hook") << e.what();
      EXPECT_NE(e.expected().find("blocks.{l}.mlp.hook_post"), std::string::npos) << e.what();
      EXPECT_NE(e.expected().find("blocks.{l}.hook_resid_pre"), std::string::npos) << e.what();
    }
  }
  try {
    harness::parse_hook_name("blocks.4.hook_resid_pre", 4, "spec.json");
    ADD_FAILURE() << "layer 4 of 4 accepted";
  } catch (const InputError& e) {
    EXPECT_EQ(e.path(), "spec.json");
    EXPECT_NE(std::string(e.what()).find("below 4"), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(Architectures, Hooks, ::testing::ValuesIn(tiny_architectures()), tiny_arch_name);

}  // namespace
}  // namespace editgate::testing
