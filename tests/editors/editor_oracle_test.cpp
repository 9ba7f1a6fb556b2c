// Conformance with the original ROME and MEMIT code (ctest label conformance):
// tests/data/editor_oracle holds what kmeng01/memit's rome/ and memit/ computed
// on a tiny GPT-2 (README there). editgate runs the same requests with the same
// checkpoint, C, hyperparameters and fixed context templates, and every tensor
// the reference recorded (k̄, u, v*, δ, ΔW for ROME; z, grouped keys, current z,
// residuals, ΔW per layer for MEMIT) must agree to cos >= 0.9999 and relative
// error <= 1e-3, the forward passes of the v*/z search exactly, the final loss
// to 1e-3 relative. Each compared tensor's max difference and cosine are
// printed, as llm.c's test_gpt2.c does. Both variants: "templates" ("{}" plus
// four prefixes, MEMIT grouping them) and "bare" ("{}" only).
#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "editors/context_templates.h"
#include "editors/edit_hparams.h"
#include "editors/edit_request.h"
#include "editors/memit.h"
#include "editors/rome.h"
#include "editors/second_moment.h"
#include "editors/subject_activations.h"
#include "harness/safetensors_reader.h"

namespace editgate::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr double kMinCosine = 0.9999;
constexpr double kMaxRelError = 1e-3;
constexpr double kMaxLossRelError = 1e-3;

fs::path oracle_dir() { return fs::path(EDITGATE_SOURCE_DIR) / "tests" / "data" / "editor_oracle"; }

json read_json(const std::string& file) {
  std::ifstream in(oracle_dir() / file);
  return json::parse(in);
}

// The oracle's hyperparameters for `method` ("rome" | "memit") and `variant`, in
// editgate's format. The "templates" variant gets the reference's template
// groups through context_templates instead of the context_seed_words trick of
// editgate_hparams.json (EditorOracleTemplates.SeedWordTrickGivesTheFixedTemplates checks the two agree).
json oracle_hparams(const std::string& method, const std::string& variant) {
  auto h = read_json("editgate_hparams.json")[method][variant];
  if (variant == "templates") {
    for (const char* k : {"context_template_length_params", "context_seed_words", "context_separator"}) h.erase(k);
    h["context_templates"] = read_json("context_templates.json")["memit"];
  }
  return h;
}

// rome.json / memit.json: what the reference recorded per request for `variant`.
json oracle_outputs(const std::string& method, const std::string& variant) {
  return read_json(method + ".json")["variants"][variant];
}

std::vector<editors::EditRequest> oracle_requests() {
  return editors::load_counterfact_requests(oracle_dir() / "requests.json");
}

harness::TextModel load_oracle_model() {
  harness::LoadOptions o;
  o.device = "cpu";  // the oracle ran on the CPU in float32; TF32 on a GPU would exceed the tolerance
  return harness::TextModel::load(oracle_dir() / "model", o);
}

at::Tensor oracle_tensor(const std::string& file, const std::string& name) {
  return harness::SafetensorsFile::open(oracle_dir() / file)->tensor(name).to(at::kDouble).clone();
}

// Prints one comparison line and checks the tolerance of the oracle's README.
void expect_matches(const std::string& what, const at::Tensor& got, const at::Tensor& ref) {
  const auto g = got.to(at::kCPU, at::kDouble).flatten(), r = ref.to(at::kCPU, at::kDouble).flatten();
  ASSERT_EQ(g.numel(), r.numel()) << what;
  const double max_abs = (g - r).abs().max().item<double>();
  const double cosine = (at::dot(g, r) / (g.norm() * r.norm())).item<double>();
  const double rel = ((g - r).norm() / r.norm()).item<double>();
  const bool ok = cosine >= kMinCosine && rel <= kMaxRelError;
  std::cout << fmt::format("  {:<26} max |diff| {:.3e}  cos {:.10f} (1 - cos {:.1e})  rel {:.3e}  {}\n", what, max_abs,
                           cosine, 1 - cosine, rel, ok ? "OK" : "NOT OK");
  EXPECT_GE(cosine, kMinCosine) << what;
  EXPECT_LE(rel, kMaxRelError) << what;
}

void expect_search_matches(const std::string& what, const editors::ValueResult& got, const json& ref,
                           double kl_factor) {
  const double loss = ref["final_loss"].get<double>();
  std::cout << fmt::format("  {:<26} forward passes {} (reference {}), final loss {:.7g} (reference {:.7g}), "
                           "kl·factor {:.5g} (reference {:.5g})\n",
                           what, got.steps, ref["iterations"].get<int64_t>(), got.loss, loss, got.kl * kl_factor,
                           ref["final_loss_terms"]["kl"].get<double>());
  EXPECT_EQ(got.steps, ref["iterations"].get<int64_t>()) << what;
  EXPECT_LE(std::abs(got.loss - loss) / std::abs(loss), kMaxLossRelError) << what;
}

class ConformanceEditorOracle : public ::testing::TestWithParam<std::string> {};

// ROME one request at a time on fresh weights, against rome.safetensors / rome.json.
TEST_P(ConformanceEditorOracle, RomeMatchesTheReference) {
  const std::string variant = GetParam();
  auto tm = load_oracle_model();
  const auto h = editors::parse_rome_hparams(oracle_hparams("rome", variant), "editor_oracle/rome." + variant);
  const auto ref_json = oracle_outputs("rome", variant);
  const auto requests = oracle_requests();
  const auto templates = editors::sample_context_templates(tm, h.context, 0);
  ASSERT_EQ(templates, ref_json["templates"].get<std::vector<std::string>>());
  const auto c = oracle_tensor("mom2.safetensors", fmt::format("mom2_l{}_f32", h.layer));
  const auto c_inv = editors::rome_inverse_mom2(c, h.mom2.ridge);
  auto w = tm.model().weight(fmt::format("blocks.{}.mlp.W_out", h.layer));
  const auto original = w.clone();
  ASSERT_EQ(ref_json["cases"].size(), requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    const auto p = fmt::format("{}.case{}.", variant, i);
    const auto up = editors::apply_rome(tm, {requests[i]}, h, templates, c_inv).front();
    {
      c10::NoGradGuard ng;
      w.copy_(original);  // each request on fresh weights, as the oracle ran them
    }
    std::cout << "ROME " << variant << " case " << i << "\n";
    const auto r = [&](const char* name) { return oracle_tensor("rome.safetensors", p + name); };
    expect_matches("k_mean (k̄)", up.key_mean, r("k_mean"));
    expect_matches("k_prompt", up.key_insert, r("k_prompt"));
    expect_matches("u", up.u, r("u"));
    expect_matches("v_init", up.value.v0, r("v_init"));
    expect_matches("delta", up.value.delta, r("delta"));
    expect_matches("v_star", up.v_star, r("v_star"));
    expect_matches("right", up.residual / at::dot(up.u, up.key_insert), r("right"));
    expect_matches("dW", up.delta_w.t(), r("dW"));  // editgate [d_model, d_mlp]; the oracle's Conv1D [d_mlp, d_model]
    expect_search_matches("v* search", up.value, ref_json["cases"][i], h.value.kl_factor);
  }
}

// MEMIT with all four requests in one batch, against memit.safetensors / memit.json.
TEST_P(ConformanceEditorOracle, MemitMatchesTheReference) {
  const std::string variant = GetParam();
  auto tm = load_oracle_model();
  const auto requests = oracle_requests();
  const auto h = editors::parse_memit_hparams(oracle_hparams("memit", variant), "editor_oracle/memit." + variant);
  const auto ref_json = oracle_outputs("memit", variant);
  const auto templates = editors::sample_context_templates(tm, h.context, 0);
  const auto groups = editors::context_template_groups(h.context);
  std::map<int64_t, at::Tensor> mom2;
  for (const int64_t l : h.layers) mom2[l] = oracle_tensor("mom2.safetensors", fmt::format("mom2_l{}_f32", l));
  const harness::HookPoint z_point{h.layers.back(), harness::HookSite::kResidPost};
  const auto z_before = editors::bare_prompt_activations(tm, requests, z_point);  // [n, d_model]

  const auto r = editors::apply_memit(tm, requests, h, templates, mom2, editors::MemitSolver::kMemit);
  const auto m = [&](const std::string& name) { return oracle_tensor("memit.safetensors", variant + "." + name); };
  std::cout << "MEMIT " << variant << ", " << requests.size() << " requests in one batch\n";
  std::vector<at::Tensor> z0, delta;
  for (const auto& v : r.values) {
    z0.push_back(v.v0.to(at::kDouble));
    delta.push_back(v.delta.to(at::kDouble));
  }
  const auto z = at::stack(z0) + at::stack(delta);  // [n, d_model]
  expect_matches("z_init", at::stack(z0), m("z_init"));
  expect_matches("delta", at::stack(delta), m("delta"));
  expect_matches("z", z, m("z"));
  for (size_t i = 0; i < requests.size(); ++i) {
    expect_search_matches(fmt::format("z search, case {}", i), r.values[i], ref_json["requests"][i], h.value.kl_factor);
  }
  // Keys at layer l do not depend on W_out of layer l or later, so the edited
  // model gives the keys the solves used. The current z of layer j is that of
  // the model with the layers before j edited: W_out of the later layers are
  // set back to the base for it.
  ASSERT_EQ(r.layers.size(), h.layers.size());
  c10::NoGradGuard ng;
  for (size_t j = 0; j < h.layers.size(); ++j) {
    const auto p = fmt::format("L{}.", h.layers[j]);
    const auto& up = r.layers[j];
    expect_matches(p + "ks", editors::mean_subject_keys(tm, requests, templates, h.layers[j], groups), m(p + "ks"));
    std::vector<std::pair<at::Tensor, at::Tensor>> undone;  // (weight, edited copy)
    for (size_t later = j; later < h.layers.size(); ++later) {
      auto w = tm.model().weight(r.layers[later].weight_name);
      undone.emplace_back(w, w.clone());
      w.sub_(r.layers[later].delta_w.to(w.device(), w.scalar_type()));
    }
    const auto cur_z = j == 0 ? z_before : editors::bare_prompt_activations(tm, requests, z_point);
    for (auto& [w, edited] : undone) w.copy_(edited);
    expect_matches(p + "cur_z", cur_z, m(p + "cur_z"));
    expect_matches(p + "resid", (z - cur_z.to(at::kDouble)) / static_cast<double>(h.layers.size() - j), m(p + "resid"));
    expect_matches(p + "dW", up.delta_w.t(), m(p + "dW"));
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, ConformanceEditorOracle, ::testing::Values("templates", "bare"),
                         [](const auto& info) { return info.param; });

// editgate's own C over the oracle's corpus equals the reference's (accumulated
// in float64 there) to 1e-6 relative: C from corpus.txt can stand in for mom2.
TEST(ConformanceEditorOracleStatistics, OwnSecondMomentMatchesTheReference) {
  auto tm = load_oracle_model();
  editors::SecondMomentOptions o;
  o.layers = {0, 1};
  o.show_progress = false;
  for (const auto& s : editors::compute_second_moments(tm, editors::TextCorpus::from_file(oracle_dir() / "corpus.txt"), o)) {
    const auto ref = oracle_tensor("mom2.safetensors", fmt::format("mom2_l{}_f64", s.layer));
    const double rel = ((s.mom2.cpu() - ref).norm() / ref.norm()).item<double>();
    std::cout << fmt::format("  C layer {}: {} tokens, max |diff| {:.3e}, rel {:.3e}\n", s.layer, s.n_tokens,
                             (s.mom2.cpu() - ref).abs().max().item<double>(), rel);
    EXPECT_EQ(s.n_tokens, 4648) << "tokens, <bos> included, as the reference counted them";
    EXPECT_LE(rel, 1e-6) << "layer " << s.layer;
  }
}

// The context_seed_words trick of the oracle's editgate_hparams.json (each prefix
// a seed word longer than the requested length) yields the same templates and
// groups as the explicit context_templates.
TEST(EditorOracleTemplates, SeedWordTrickGivesTheFixedTemplates) {
  auto tm = load_oracle_model();
  const auto trick = editors::parse_memit_hparams(read_json("editgate_hparams.json")["memit"]["templates"], "trick");
  const auto fixed = editors::parse_memit_hparams(oracle_hparams("memit", "templates"), "fixed");
  const auto expected = read_json("context_templates.json")["rome"].get<std::vector<std::string>>();
  EXPECT_EQ(editors::sample_context_templates(tm, trick.context, 0), expected);
  EXPECT_EQ(editors::sample_context_templates(tm, fixed.context, 0), expected);
  EXPECT_EQ(editors::context_template_groups(trick.context), (std::vector<int64_t>{1, 4}));
  EXPECT_EQ(editors::context_template_groups(fixed.context), (std::vector<int64_t>{1, 4}));
}

}  // namespace
}  // namespace editgate::testing
