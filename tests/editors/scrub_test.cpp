// Concept scrubbing on a random-weight model: the invariant LEACE promises at
// every layer (on the fit data, pooled over every token, the class-conditional
// means of the residual entering each layer are equal once the scrubber is
// installed, i.e. its cross-covariance with Z is zero), checked by replaying
// the fit split through the installed erasers rather than trusting the fit's
// own numbers; and the report's and output directory's bookkeeping.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "editors/concept_dataset.h"
#include "editors/concept_prompts.h"
#include "editors/eraser.h"
#include "editors/scrub.h"
#include "harness/scoring.h"
#include "harness/text_model.h"
#include "tests/editors/random_text_model.h"
#include "tests/harness/tiny_checkpoint.h"

namespace editgate::testing {
namespace {

// Largest |E[x | z = c] - E[x]| over classes and dimensions, and the largest
// per-dimension standard deviation (the scale it is judged on).
std::pair<double, double> mean_gap_and_scale(const at::Tensor& x, const at::Tensor& z, int64_t k) {
  const at::Tensor xd = x.to(at::kDouble);
  double gap = 0.0;
  for (int64_t c = 0; c < k; ++c) gap = std::max(gap, (xd.index({z == c}).mean(0) - xd.mean(0)).abs().max().item<double>());
  return {gap, xd.std(0).max().item<double>()};
}

class Scrub : public ::testing::TestWithParam<std::string> {};

TEST_P(Scrub, EveryLayersInputHasEqualClassMeansOnTheFitData) {
  c10::NoGradGuard no_grad;
  TempDir dir;
  write_random_text_model(dir / "m", GetParam(), 7);
  auto tm = harness::TextModel::load(dir / "m", harness::LoadOptions{"cpu"});
  const int64_t k = 3;
  const auto ds = editors::ConceptDataset::parse(make_concept_dataset(k, 3), "ds.json");
  editors::ScrubOptions options;
  options.behaviour_relation = "born_in";
  const auto r = editors::scrub_model(tm, ds, options);
  const int64_t L = tm.model().config().n_layers;
  ASSERT_EQ(static_cast<int64_t>(r.erasers.size()), L);
  ASSERT_EQ(static_cast<int64_t>(r.layers.size()), L);

  // Replay: the fit split in one padded batch, the scrubber installed, every
  // layer's input read (after its eraser) at every non-padding token.
  std::map<std::string, int64_t> ids;
  const auto fit = editors::encode_records(tm, ds.fit, ds.path, ids);
  const auto padded = harness::pad_batch(fit.prompts, harness::Padding::kRight);
  const at::Tensor valid = padded.mask.to(at::kBool).flatten();
  const at::Tensor z = fit.labels.view({-1, 1}).expand_as(padded.mask).flatten().index({valid});
  EXPECT_EQ(r.fit_rows, z.size(0));
  std::vector<at::Tensor> before(static_cast<size_t>(L)), after(static_cast<size_t>(L));
  for (const bool scrubbed : {false, true}) {
    auto handles = scrubbed ? editors::install_scrubber(tm.model(), r.erasers) : std::vector<harness::HookHandle>{};
    auto& out = scrubbed ? after : before;
    for (int64_t l = 0; l < L; ++l) {
      handles.push_back(tm.model().hooks().add({l, harness::HookSite::kResidPre},
                                               [&out, l, valid](at::Tensor& act, const harness::HookContext&) {
                                                 out[static_cast<size_t>(l)] = act.flatten(0, 1).index({valid}).clone();
                                               }));
    }
    tm.model().forward(padded.ids, harness::ForwardOptions{padded.mask, {}, nullptr, {}});
  }
  for (int64_t l = 0; l < L; ++l) {
    const auto [gap_before, scale] = mean_gap_and_scale(before[l], z, k);
    const auto [gap_after, scale_after] = mean_gap_and_scale(after[l], z, k);
    std::cout << GetParam() << " layer " << l << ": class-mean gap " << gap_before << " -> " << gap_after
              << " (largest sd " << scale << ")\n";
    // The concept is there before (the label is the first syllable of a token the model sees)...
    EXPECT_GT(gap_before, 1e-3 * scale) << "layer " << l;
    // ...and gone after, to float32 rounding of the forward pass.
    EXPECT_LT(gap_after, 1e-4 * scale_after) << "layer " << l;
    EXPECT_LT(r.layers[l].class_mean_gap_after, 1e-9 * scale) << "layer " << l;
    EXPECT_EQ(r.layers[l].hook, "blocks." + std::to_string(l) + ".hook_resid_pre");
    EXPECT_EQ(r.layers[l].fit.rank, k - 1);
    EXPECT_EQ(r.layers[l].linear_after.n_test, static_cast<int64_t>(ds.probe_train.size() + ds.probe_test.size()));
  }
  // Layer 0's input is the embedding, which no earlier eraser touched: the replay's "before" is the fit's.
  EXPECT_NEAR(mean_gap_and_scale(before[0], z, k).first, r.layers[0].class_mean_gap_before, 1e-5);

  EXPECT_EQ(r.recall_base.n, r.recall_erased.n);
  EXPECT_GT(r.recall_base.n, 0);
  ASSERT_TRUE(r.behaviour_erased.has_value());
  EXPECT_EQ(r.behaviour_erased->n.size(), static_cast<size_t>(k));

  editors::write_scrub_outputs(dir / "out", r, {{"model", "random"}});
  for (int64_t l = 0; l < L; ++l) {
    const auto e = editors::Eraser::load(dir / "out" / ("blocks." + std::to_string(l) + ".hook_resid_pre.safetensors"));
    EXPECT_TRUE(at::allclose(e.proj_left, r.erasers[l].proj_left));
  }
  const auto report = nlohmann::json::parse(std::ifstream(dir / "out" / "report.json"));
  EXPECT_EQ(report["layers"].size(), static_cast<size_t>(L));
  EXPECT_TRUE(report.contains("behaviour_erased"));
}

INSTANTIATE_TEST_SUITE_P(Architectures, Scrub, ::testing::Values("gpt2", "llama"),
                         [](const auto& info) { return info.param == "gpt2" ? "Gpt2" : "Llama"; });

}  // namespace
}  // namespace editgate::testing
