#include "editors/locate/causal_trace.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/GradMode.h>

#include "editors/context_templates.h"
#include "editors/edit_request.h"
#include "harness/input_error.h"

namespace editgate::editors {
namespace {

std::vector<std::vector<double>> rows_of(const at::Tensor& t) {
  const auto c = t.to(at::kDouble).cpu().contiguous();
  std::vector<std::vector<double>> out;
  for (int64_t i = 0; i < c.size(0); ++i) {
    out.emplace_back(c[i].data_ptr<double>(), c[i].data_ptr<double>() + c.size(1));
  }
  return out;
}

// The batch of one trace pass: row 0 clean, then for each group g (a token to
// restore, or none) `samples` corrupted rows.
struct TraceBatch {
  at::Tensor ids;      // [1 + groups * samples, n_tokens]
  at::Tensor noise;    // [groups * samples, n_subject, d_model] (the same draws for every group)
  int64_t groups = 0;
  int64_t samples = 0;
};

}  // namespace

int64_t TraceResult::best_mlp_layer_at_subject() const {
  return mlp[subject_end - 1].argmax().item<int64_t>();
}

TraceResult causal_trace(harness::TextModel& tm, const std::string& prompt, const std::string& subject,
                         const std::optional<std::string>& answer, const TraceOptions& o) {
  TORCH_CHECK(o.samples >= 1 && o.window >= 0, "causal_trace: samples must be >= 1 and window >= 0");
  c10::NoGradGuard no_grad;
  auto& model = tm.model();
  const auto& cfg = model.config();
  const auto dev = model.device();
  const auto sp = encode_subject_prompt(tm, prompt, subject, "trace");
  // The text before the subject, without the space BPE attaches to the subject's first piece.
  std::string before = prompt.substr(0, prompt.find("{}"));
  while (!before.empty() && before.back() == ' ') before.pop_back();
  TraceResult r;
  r.subject_end = sp.subject_last + 1;
  r.subject_begin = static_cast<int64_t>(tm.encode_prompt(before).size());
  if (before.empty()) r.subject_begin = tm.adds_bos() ? 1 : 0;
  const auto n_tok = static_cast<int64_t>(sp.ids.size());
  for (int64_t id : sp.ids) r.tokens.push_back(tm.decode({id}));
  const int64_t n_subj = r.subject_end - r.subject_begin;

  const auto& wte = model.token_embedding();
  // Relative to the embeddings as layer 0 sees them, where the noise goes: Gemma
  // multiplies them by sqrt(d_model) first, and noise relative to the bare matrix
  // would be that many times too weak to corrupt anything.
  r.noise_std = o.noise_scale * wte.to(at::kFloat).std().item<double>() * model.embedding_scale();
  auto gen = at::make_generator<at::CPUGeneratorImpl>(o.seed);
  const auto noise_one = at::normal(0.0, r.noise_std, {o.samples, n_subj, cfg.d_model}, gen);  // CPU float

  // P(answer) at the last token for every row of a pass; `groups` groups of corrupted rows.
  const auto run = [&](int64_t groups, const std::function<void()>& install_restores) {
    const int64_t rows = 1 + groups * o.samples;
    const auto ids = at::tensor(sp.ids, at::kLong).unsqueeze(0).repeat({rows, 1}).to(dev);
    const auto noise = noise_one.repeat({groups, 1, 1}).to(dev);
    auto corrupt = model.hooks().add({0, harness::HookSite::kResidPre}, [&](at::Tensor& act, const harness::HookContext&) {
      // act [rows, pos, d_model]: rows 1.. get noise on the subject tokens
      auto x = act.clone();
      x.narrow(0, 1, rows - 1).narrow(1, r.subject_begin, n_subj).add_(noise.to(x.scalar_type()));
      act = x;
    });
    install_restores();
    const auto logits = model.forward(ids).select(1, n_tok - 1).to(at::kFloat);  // [rows, vocab]
    return at::softmax(logits, -1).select(1, r.answer_id).cpu();                  // [rows]
  };

  // The clean run decides the answer when none is given.
  {
    const auto logits = model.forward(at::tensor(sp.ids, at::kLong).unsqueeze(0).to(dev)).select(1, n_tok - 1);
    if (answer) {
      const auto ids = tm.encode_continuation(with_leading_space(*answer));
      if (ids.empty()) throw InputError("", "--answer", "text that encodes to at least one token", *answer);
      r.answer_id = ids.front();
    } else {
      r.answer_id = logits.argmax(-1).item<int64_t>();
    }
    r.answer = tm.decode({r.answer_id});
  }
  {
    const auto p = run(1, [] {});
    r.clean_prob = p[0].item<double>();
    r.corrupted_prob = p.narrow(0, 1, o.samples).mean().item<double>();
  }

  // One pass per (stream, layer): group t restores token t from the clean row 0.
  const auto restore_hook = [&](harness::HookSite site, int64_t layer) {
    return model.hooks().add({layer, site}, [&](at::Tensor& act, const harness::HookContext&) {
      // act [rows, pos, d]: for group t, rows 1 + t*samples .. copy position t from row 0
      auto x = act.clone();
      for (int64_t t = 0; t < n_tok; ++t) {
        x.narrow(0, 1 + t * o.samples, o.samples).select(1, t).copy_(act[0][t].unsqueeze(0).expand({o.samples, act.size(2)}));
      }
      act = x;
    });
  };
  const auto trace_stream = [&](harness::HookSite site, int64_t window) {
    auto out = at::zeros({n_tok, cfg.n_layers}, at::kDouble);
    for (int64_t l = 0; l < cfg.n_layers; ++l) {
      const int64_t lo = std::max<int64_t>(0, l - window / 2);
      const int64_t hi = std::min<int64_t>(cfg.n_layers, lo + window);
      std::vector<harness::HookHandle> handles;
      const auto p = run(n_tok, [&] {
        for (int64_t k = lo; k < hi; ++k) handles.push_back(restore_hook(site, k));
      });
      out.select(1, l).copy_(p.narrow(0, 1, n_tok * o.samples).view({n_tok, o.samples}).mean(1).to(at::kDouble));
    }
    return out;
  };
  r.resid = trace_stream(harness::HookSite::kResidPost, 1);
  r.window = o.window > 0 ? o.window : std::min<int64_t>(10, std::max<int64_t>(1, cfg.n_layers / 4));
  r.mlp = trace_stream(harness::HookSite::kMlpOut, r.window);
  r.attn = trace_stream(harness::HookSite::kAttnOut, r.window);
  return r;
}

nlohmann::ordered_json to_json(const TraceResult& r) {
  return {{"tokens", r.tokens},
          {"subject", {r.subject_begin, r.subject_end}},
          {"answer", r.answer},
          {"answer_id", r.answer_id},
          {"noise_std", r.noise_std},
          {"window", r.window},
          {"clean_prob", r.clean_prob},
          {"corrupted_prob", r.corrupted_prob},
          {"best_mlp_layer_at_subject", r.best_mlp_layer_at_subject()},
          {"resid", rows_of(r.resid)},
          {"mlp", rows_of(r.mlp)},
          {"attn", rows_of(r.attn)}};
}

}  // namespace editgate::editors
