#include "editors/locate/debug_analysis.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "editors/context_templates.h"
#include "harness/input_error.h"

namespace editgate::editors {
namespace {

using harness::HookContext;
using harness::HookSite;

constexpr int64_t kIgChunk = 16;         // path points per forward pass
constexpr double kKnockoutShare = 0.9;   // "nearly as much" as the strongest knockout

at::Tensor ids_tensor(const std::vector<int64_t>& ids, int64_t rows, at::Device dev) {
  return at::tensor(ids, at::kLong).unsqueeze(0).repeat({rows, 1}).to(dev);
}

// F = logit(expected) - logit(actual) at the last position of every row.
at::Tensor logit_difference(const at::Tensor& logits, int64_t expected, int64_t actual) {
  const auto last = logits.select(1, logits.size(1) - 1).to(at::kFloat);  // [rows, vocab]
  return last.select(1, expected) - last.select(1, actual);
}

IntegratedGradients integrated_gradients(harness::TextModel& tm, const std::vector<int64_t>& ids, int64_t expected,
                                         int64_t actual, const DebugOptions& o) {
  auto& model = tm.model();
  const auto dev = model.device();
  const harness::HookPoint embed{0, HookSite::kResidPre};
  auto x = std::make_shared<at::Tensor>();
  {
    c10::NoGradGuard ng;
    auto h = model.hooks().add(embed, harness::cache_into(x));
    model.forward(ids_tensor(ids, 1, dev));
  }
  const auto input = x->to(at::kFloat);  // [1, pos, d_model]: token (+ position) embeddings
  // The path moves the token embeddings only; GPT-2's position embeddings stay.
  const auto& wte = model.token_embedding();
  // As layer 0 sees them: Gemma scales the token embeddings by sqrt(d_model).
  const auto tok = at::embedding(wte, ids_tensor(ids, 1, dev)).to(at::kFloat) * model.embedding_scale();  // [1, pos, d_model]
  const auto baseline = input - tok;
  // One pass with the embeddings replaced by `rows`; returns F per row.
  const auto f_at = [&](const at::Tensor& rows) {
    auto h = model.hooks().add(embed, [&rows](at::Tensor& act, const HookContext&) { act = rows.to(act.scalar_type()); });
    return logit_difference(model.forward(ids_tensor(ids, rows.size(0), dev)), expected, actual);
  };
  IntegratedGradients ig;
  ig.steps = o.ig_steps;
  {
    c10::NoGradGuard ng;
    ig.f_input = f_at(input).item<double>();
    ig.f_baseline = f_at(baseline).item<double>();
  }
  // Midpoint rule in u with alpha = u^3 (d alpha = 3u^2 du): the points crowd
  // near the baseline, where a norm layer's input is smallest and F changes fastest.
  c10::AutoGradMode grad(true);
  auto grad_sum = at::zeros_like(input[0]);  // [pos, d_model] Σ_k w_k ∂F/∂x(alpha_k)
  for (int64_t start = 0; start < o.ig_steps; start += kIgChunk) {
    const int64_t n = std::min(kIgChunk, o.ig_steps - start);
    const auto u = (at::arange(start, start + n, at::kFloat).to(dev) + 0.5) / static_cast<double>(o.ig_steps);
    const auto alpha = u.pow(3), weight = 3 * u.pow(2) / static_cast<double>(o.ig_steps);  // [n]
    auto rows = (baseline + alpha.view({n, 1, 1}) * tok).detach().requires_grad_(true);  // [n, pos, d_model]
    f_at(rows).sum().backward();
    grad_sum += (rows.grad() * weight.view({n, 1, 1})).sum(0);
  }
  const auto attr = (tok[0] * grad_sum).sum(1).to(at::kDouble).cpu();  // [pos]
  ig.attributions.assign(attr.data_ptr<double>(), attr.data_ptr<double>() + attr.numel());
  for (double a : ig.attributions) ig.sum += a;
  const double delta = ig.f_input - ig.f_baseline;
  ig.error = std::abs(ig.sum - delta);
  ig.complete = ig.error <= o.completeness_tolerance * std::max(1.0, std::abs(delta));
  return ig;
}

std::vector<LensRow> logit_lens(harness::TextModel& tm, const std::vector<int64_t>& ids, int64_t expected,
                                int64_t actual) {
  c10::NoGradGuard ng;
  auto& model = tm.model();
  const auto dev = model.device();
  const int64_t n_layers = model.config().n_layers;
  std::vector<std::shared_ptr<at::Tensor>> resid;
  {
    std::vector<harness::HookHandle> hooks;
    for (int64_t l = 0; l < n_layers; ++l) {
      resid.push_back(std::make_shared<at::Tensor>());
      hooks.push_back(model.hooks().add({l, HookSite::kResidPost}, harness::cache_into(resid.back())));
    }
    model.forward(ids_tensor(ids, 1, dev));
  }
  std::vector<at::Tensor> rows;
  for (const auto& r : resid) rows.push_back((*r)[0]);
  const auto stacked = at::stack(rows);  // [n_layers, pos, d_model]: row l = the stream after block l
  // The final norm and unembedding are the model's own: what follows the last hook_resid_post.
  auto h = model.hooks().add({n_layers - 1, HookSite::kResidPost},
                             [&stacked](at::Tensor& act, const HookContext&) { act = stacked.to(act.scalar_type()); });
  const auto logits = model.forward(ids_tensor(ids, n_layers, dev));
  const auto probs = at::softmax(logits.select(1, logits.size(1) - 1).to(at::kFloat), -1).cpu();  // [n_layers, vocab]
  std::vector<LensRow> out;
  for (int64_t l = 0; l < n_layers; ++l) {
    const auto p = probs[l];
    LensRow row;
    row.layer = l;
    row.expected_prob = p[expected].item<double>();
    row.actual_prob = p[actual].item<double>();
    row.expected_rank = 1 + (p > p[expected]).sum().item<int64_t>();
    row.actual_rank = 1 + (p > p[actual]).sum().item<int64_t>();
    row.top1 = tm.decode({p.argmax().item<int64_t>()});
    out.push_back(row);
  }
  return out;
}

// P(actual) at the last position with the MLP output of one (layer, position)
// zeroed, every pair in one batch: [n_tokens, n_layers].
at::Tensor mlp_knockout(harness::TextModel& tm, const std::vector<int64_t>& ids, int64_t actual) {
  c10::NoGradGuard ng;
  auto& model = tm.model();
  const int64_t n_layers = model.config().n_layers, n_tok = static_cast<int64_t>(ids.size());
  const int64_t rows = n_layers * n_tok;  // row l * n_tok + t knocks out (l, t)
  std::vector<harness::HookHandle> hooks;
  for (int64_t l = 0; l < n_layers; ++l) {
    hooks.push_back(model.hooks().add({l, HookSite::kMlpOut}, [l, n_tok, rows](at::Tensor& act, const HookContext&) {
      auto mask = at::ones({rows, n_tok, 1}, act.options());
      for (int64_t t = 0; t < n_tok; ++t) mask[l * n_tok + t][t] = 0;
      act = act * mask;
    }));
  }
  const auto logits = model.forward(ids_tensor(ids, rows, model.device()));
  const auto p = at::softmax(logits.select(1, n_tok - 1).to(at::kFloat), -1).select(1, actual).cpu();  // [rows]
  return p.view({n_layers, n_tok}).t().to(at::kDouble).contiguous();
}

// The (component, layer, position) with the largest P(actual) restored above the corrupted run.
void read_trace(DebugResult& r) {
  const auto& t = *r.trace;
  double best = -1;
  for (const auto& [name, scores] : {std::pair{"mlp", &t.mlp}, {"attn", &t.attn}}) {
    const auto effect = *scores - t.corrupted_prob;  // [n_tokens, n_layers]
    const auto flat_idx = effect.argmax().item<int64_t>();
    const double e = effect.flatten()[flat_idx].item<double>();
    if (e > best) {
      best = e;
      r.component = name;
      r.position = flat_idx / effect.size(1);
      r.layer = flat_idx % effect.size(1);
      r.effect = e;
    }
  }
}

std::string in_quotes(const std::string& s) { return "'" + s + "'"; }

void write_summary(DebugResult& r) {
  auto& s = r.summary;
  const bool wrong = r.actual_id != r.expected_id;
  s.push_back(fmt::format("the model answers {} (P {:.3f}); expected {} (P {:.3f}){}", in_quotes(r.actual), r.actual_prob,
                          in_quotes(r.expected), r.expected_prob, wrong ? "" : ": the answer is right"));
  // Tokens: negative attributions push F towards the actual answer.
  std::vector<size_t> order(r.tokens.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return r.ig.attributions[a] < r.ig.attributions[b]; });
  std::string toks;
  for (size_t k = 0; k < std::min<size_t>(3, order.size()); ++k) {
    if (r.ig.attributions[order[k]] >= 0) break;
    toks += fmt::format("{}{} ({:+.3f})", toks.empty() ? "" : ", ", in_quotes(r.tokens[order[k]]), r.ig.attributions[order[k]]);
  }
  s.push_back(fmt::format("integrated gradients ({} steps, completeness error {:.4f} of ΔF {:.4f}{}): tokens pushing "
                          "towards {}: {}",
                          r.ig.steps, r.ig.error, r.ig.f_input - r.ig.f_baseline,
                          r.ig.complete ? "" : " — NOT within tolerance: raise --ig-steps", in_quotes(r.actual),
                          toks.empty() ? "none" : toks));
  int64_t takes_over = -1;  // first layer from which the actual answer stays top-1
  for (auto it = r.lens.rbegin(); it != r.lens.rend() && it->actual_rank == 1; ++it) takes_over = it->layer;
  if (takes_over >= 0) {
    s.push_back(fmt::format("logit lens: {} is top-1 from layer {} on", in_quotes(r.actual), takes_over));
  }
  if (r.knockout_layer >= 0) {
    s.push_back(fmt::format("MLP knockout: the deepest MLP at the subject the answer cannot do without is layer {} "
                            "at {} (zeroing it lowers P({}) by {:.3f})",
                            r.knockout_layer, in_quotes(r.tokens[static_cast<size_t>(r.knockout_position)]),
                            in_quotes(r.actual), r.knockout_drop));
  }
  if (!r.trace) {
    s.push_back("causal tracing: skipped (give --subject to trace)");
    r.suggestion = takes_over >= 0 ? fmt::format("trace with --subject to locate it; the lens points at layer <= {}", takes_over)
                                   : "trace with --subject to locate it";
    return;
  }
  s.push_back(fmt::format("causal tracing: the largest indirect effect on {} is the {} of layer {} at token {} "
                          "(P {:.3f} restored vs {:.3f} corrupted)",
                          in_quotes(r.actual), r.component == "mlp" ? "MLP" : "attention", r.layer,
                          in_quotes(r.tokens[static_cast<size_t>(r.position)]), r.effect + r.trace->corrupted_prob,
                          r.trace->corrupted_prob));
  // An MLP editor acts at the subject: its layer is the knockout's, which the
  // tracing's site agrees with when both are MLPs at the subject.
  if (r.component == "mlp" || r.knockout_drop > r.effect) {
    const int64_t layer = r.knockout_layer >= 0 ? r.knockout_layer : r.layer;
    r.suggestion = fmt::format("rome at layer {} (the MLP there, at the subject, carries the answer): editgate edit "
                               "--method rome --layers {}",
                               layer, layer);
  } else {
    r.suggestion = fmt::format("the answer is moved by attention at layer {}: an MLP editor reaches it only before "
                               "that layer; try memit over layers up to {}, or ft",
                               r.layer, std::max<int64_t>(0, r.layer - 1));
  }
  s.push_back("suggestion: " + r.suggestion);
}

nlohmann::ordered_json knockout_json(const DebugResult& r) {
  if (!r.knockout.defined()) return nullptr;
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (int64_t t = 0; t < r.knockout.size(0); ++t) {
    rows.push_back(std::vector<double>(r.knockout[t].data_ptr<double>(), r.knockout[t].data_ptr<double>() + r.knockout.size(1)));
  }
  return {{"what", "P(actual) with one (token, layer) MLP output zeroed"}, {"scores", rows}};
}

}  // namespace

DebugResult debug_prediction(harness::TextModel& tm, const std::string& prompt, const std::string& expected,
                             const std::optional<std::string>& subject, const DebugOptions& o) {
  if (o.ig_steps < 1) throw InputError("", "--ig-steps", "an integer >= 1", std::to_string(o.ig_steps));
  DebugResult r;
  std::string marked = prompt;  // "{}" where the subject goes
  if (subject && marked.find("{}") == std::string::npos) {
    const auto at = marked.find(*subject);
    if (subject->empty() || at == std::string::npos) {
      throw InputError("", "--subject", "a subject that occurs in --prompt (or a prompt with {})", in_quotes(*subject));
    }
    marked.replace(at, subject->size(), "{}");
  }
  r.prompt = prompt;
  if (const auto at = marked.find("{}"); at != std::string::npos && subject) {
    r.prompt = marked.substr(0, at) + *subject + marked.substr(at + 2);
  }
  const auto ids = tm.encode_prompt(r.prompt);
  for (int64_t id : ids) r.tokens.push_back(tm.decode({id}));
  r.expected_id = encode_target(tm, expected, "debug", "--expected").front();
  r.expected = tm.decode({r.expected_id});
  {
    c10::NoGradGuard ng;
    const auto logits = tm.model().forward(ids_tensor(ids, 1, tm.model().device()));
    const auto p = at::softmax(logits[0][-1].to(at::kFloat), -1).cpu();
    r.actual_id = p.argmax().item<int64_t>();
    r.actual = tm.decode({r.actual_id});
    r.actual_prob = p[r.actual_id].item<double>();
    r.expected_prob = p[r.expected_id].item<double>();
  }
  // When the model is right, F contrasts the expected answer with the runner-up.
  int64_t contrast = r.actual_id;
  if (contrast == r.expected_id) {
    c10::NoGradGuard ng;
    const auto last = tm.model().forward(ids_tensor(ids, 1, tm.model().device()))[0][-1].clone();
    last[r.expected_id] = -INFINITY;
    contrast = last.argmax().item<int64_t>();
  }
  r.ig = integrated_gradients(tm, ids, r.expected_id, contrast, o);
  r.lens = logit_lens(tm, ids, r.expected_id, r.actual_id);
  if (subject) {
    r.trace = causal_trace(tm, marked, *subject, std::nullopt, o.trace);  // the clean top-1: the actual answer
    read_trace(r);
    r.knockout = mlp_knockout(tm, ids, r.actual_id);
    const auto drop = (r.actual_prob - r.knockout.narrow(0, r.trace->subject_begin,
                                                         r.trace->subject_end - r.trace->subject_begin));
    // The deepest site whose knockout does (nearly) as much as the strongest:
    // zeroing an earlier MLP at the subject also wrecks the key a later edited
    // MLP reads (and GPT-2's first MLP acts as part of the embedding), so the
    // site that writes the answer is the last one it cannot do without.
    const double best = drop.max().item<double>();
    for (int64_t l = drop.size(1) - 1; l >= 0 && r.knockout_layer < 0; --l) {
      for (int64_t t = drop.size(0) - 1; t >= 0; --t) {
        if (drop[t][l].item<double>() < kKnockoutShare * best) continue;
        r.knockout_layer = l;
        r.knockout_position = r.trace->subject_begin + t;
        r.knockout_drop = drop[t][l].item<double>();
        break;
      }
    }
  }
  write_summary(r);
  return r;
}

nlohmann::ordered_json to_json(const DebugResult& r) {
  nlohmann::ordered_json lens = nlohmann::ordered_json::array();
  for (const auto& l : r.lens) {
    lens.push_back({{"layer", l.layer},
                    {"expected_rank", l.expected_rank},
                    {"expected_prob", l.expected_prob},
                    {"actual_rank", l.actual_rank},
                    {"actual_prob", l.actual_prob},
                    {"top1", l.top1}});
  }
  nlohmann::ordered_json j = {
      {"prompt", r.prompt},
      {"tokens", r.tokens},
      {"expected", {{"token", r.expected}, {"id", r.expected_id}, {"prob", r.expected_prob}}},
      {"actual", {{"token", r.actual}, {"id", r.actual_id}, {"prob", r.actual_prob}}},
      {"integrated_gradients",
       {{"function", "logit(expected) - logit(actual) at the last position"},
        {"baseline", "token embeddings zeroed, position embeddings kept (blocks.0.hook_resid_pre)"},
        {"quadrature", "midpoint rule in u, alpha = u^3"},
        {"steps", r.ig.steps},
        {"attributions", r.ig.attributions},
        {"sum", r.ig.sum},
        {"f_input", r.ig.f_input},
        {"f_baseline", r.ig.f_baseline},
        {"completeness_error", r.ig.error},
        {"complete", r.ig.complete}}},
      {"logit_lens", lens},
      {"causal_trace", r.trace ? to_json(*r.trace) : nlohmann::ordered_json()},
      {"mlp_knockout", knockout_json(r)},
      {"finding",
       {{"component", r.component}, {"layer", r.layer}, {"position", r.position}, {"effect", r.effect},
        {"knockout_layer", r.knockout_layer}, {"knockout_position", r.knockout_position},
        {"knockout_drop", r.knockout_drop}, {"suggestion", r.suggestion}}},
      {"summary", r.summary}};
  return j;
}

}  // namespace editgate::editors
