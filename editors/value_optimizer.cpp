#include "editors/value_optimizer.h"

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <c10/core/GradMode.h>
#include <torch/optim/adam.h>

#include <algorithm>

#include "editors/context_templates.h"
#include "harness/scoring.h"

namespace editgate::editors {
namespace {

// The rows of one chunk of requests, flattened into index tensors.
struct Chunk {
  std::vector<std::vector<int64_t>> rows;  // token ids per row
  std::vector<int64_t> row_req;            // [rows] request (within the chunk) of each row
  std::vector<int64_t> row_col;            // [rows] subject's last token
  std::vector<int64_t> first_row;          // [requests] the "{}" template row: gives v0
  std::vector<int64_t> tgt_row, tgt_pos, tgt_tok, tgt_req;  // [N] one per target token of a rewriting row
  std::vector<double> tgt_weight;                           // [N] 1 / (target tokens × templates)
  std::vector<int64_t> kl_row, kl_col, kl_req;              // [M] essence rows
  size_t max_len = 0;
};

void add_request(Chunk& c, harness::TextModel& tm, const EditRequest& r, const std::vector<std::string>& templates,
                 const ValueParams& p) {
  const auto req = static_cast<int64_t>(c.first_row.size());
  const auto target = encode_target(tm, r.target_new, r.case_id, "requested_rewrite.target_new");
  c.first_row.push_back(static_cast<int64_t>(c.rows.size()));
  const double w = 1.0 / static_cast<double>(target.size() * templates.size());
  for (const auto& t : templates) {
    auto sp = encode_subject_prompt(tm, in_template(t, r.prompt), r.subject, r.case_id);
    const auto row = static_cast<int64_t>(c.rows.size());
    const auto n_prompt = static_cast<int64_t>(sp.ids.size());
    for (size_t j = 0; j < target.size(); ++j) {
      c.tgt_row.push_back(row);
      c.tgt_pos.push_back(n_prompt - 1 + static_cast<int64_t>(j));
      c.tgt_tok.push_back(target[j]);
      c.tgt_req.push_back(req);
      c.tgt_weight.push_back(w);
    }
    sp.ids.insert(sp.ids.end(), target.begin(), target.end() - 1);  // teacher forcing
    c.max_len = std::max(c.max_len, sp.ids.size());
    c.rows.push_back(std::move(sp.ids));
    c.row_req.push_back(req);
    c.row_col.push_back(sp.subject_last);
  }
  for (const auto& kp : p.kl_prompts) {
    auto sp = encode_subject_prompt(tm, kp, r.subject, r.case_id);
    c.kl_row.push_back(static_cast<int64_t>(c.rows.size()));
    c.kl_col.push_back(sp.subject_last);
    c.kl_req.push_back(req);
    c.max_len = std::max(c.max_len, sp.ids.size());
    c.rows.push_back(std::move(sp.ids));
    c.row_req.push_back(req);
    c.row_col.push_back(sp.subject_last);
  }
}

// cuBLAS's TF32 switch is process-wide: set for the optimisation, restored after
// (also on a throw), so scoring and the weight update keep full fp32.
class Tf32Scope {
 public:
  explicit Tf32Scope(bool on) : previous_(at::globalContext().allowTF32CuBLAS()) {
    at::globalContext().setAllowTF32CuBLAS(on);
  }
  ~Tf32Scope() { at::globalContext().setAllowTF32CuBLAS(previous_); }
  Tf32Scope(const Tf32Scope&) = delete;
  Tf32Scope& operator=(const Tf32Scope&) = delete;

 private:
  bool previous_;
};

at::Tensor long_tensor(const std::vector<int64_t>& v, at::Device dev) { return at::tensor(v, at::kLong).to(dev); }

void optimize_chunk(harness::TextModel& tm, const Chunk& c, harness::HookPoint point, const ValueParams& p,
                    const ValueOptions& options, std::vector<ValueResult>& out) {
  auto& model = tm.model();
  const auto dev = model.device();
  const auto n_req = static_cast<int64_t>(c.first_row.size());
  // δ enters at each row's subject-last token and attention is causal, so every
  // token before it is the same at every step: those run once into a KV cache and
  // each step runs only the rest, subject-last token first (column 0).
  const bool split = options.cache_prefix &&
                     std::any_of(c.row_col.begin(), c.row_col.end(), [](int64_t col) { return col > 0; });
  std::vector<std::vector<int64_t>> suffixes;
  harness::KVCache prefix_cache;
  if (split) {
    std::vector<std::vector<int64_t>> prefixes;
    for (size_t i = 0; i < c.rows.size(); ++i) {
      const auto cut = c.rows[i].begin() + c.row_col[i];
      prefixes.emplace_back(c.rows[i].begin(), cut);
      suffixes.emplace_back(cut, c.rows[i].end());
    }
    c10::NoGradGuard no_grad;
    const auto pre = harness::pad_batch(prefixes, harness::Padding::kLeft);  // left: the suffixes line up after it
    harness::ForwardOptions po;
    po.attention_mask = pre.mask.to(dev);
    po.cache = &prefix_cache;
    (void)model.forward(pre.ids.to(dev), po);
  }
  const auto padded = harness::pad_batch(split ? suffixes : c.rows, harness::Padding::kRight);
  const auto ids = padded.ids.to(dev);
  const auto suffix_mask = padded.mask.to(dev);
  std::vector<int64_t> tgt_pos_in_step = c.tgt_pos, kl_col_in_step = c.kl_col, row_col_in_step = c.row_col;
  if (split) {
    for (size_t j = 0; j < tgt_pos_in_step.size(); ++j) tgt_pos_in_step[j] -= c.row_col[c.tgt_row[j]];
    for (size_t j = 0; j < kl_col_in_step.size(); ++j) kl_col_in_step[j] -= c.row_col[c.kl_row[j]];
    std::fill(row_col_in_step.begin(), row_col_in_step.end(), 0);
  }
  const auto row_all = at::arange(static_cast<int64_t>(c.rows.size()), at::TensorOptions().dtype(at::kLong).device(dev));
  const auto row_req = long_tensor(c.row_req, dev), row_col = long_tensor(row_col_in_step, dev);
  const auto first_row = long_tensor(c.first_row, dev);
  const auto tgt_row = long_tensor(c.tgt_row, dev), tgt_pos = long_tensor(tgt_pos_in_step, dev);
  const auto tgt_tok = long_tensor(c.tgt_tok, dev), tgt_req = long_tensor(c.tgt_req, dev);
  const auto tgt_w = at::tensor(c.tgt_weight, at::kDouble).to(at::kFloat).to(dev);
  const auto kl_row = long_tensor(c.kl_row, dev), kl_col = long_tensor(kl_col_in_step, dev);
  const auto kl_req = long_tensor(c.kl_req, dev);
  const double kl_per_req = p.kl_prompts.empty() ? 1.0 : static_cast<double>(p.kl_prompts.size());

  const int64_t d = point.site == harness::HookSite::kMlpPost ? model.config().d_mlp : model.config().d_model;
  auto delta = at::zeros({n_req, d}, at::TensorOptions().dtype(at::kFloat).device(dev)).requires_grad_(true);
  const auto first_col = row_col.index_select(0, first_row);
  at::Tensor v0;  // [n_req, d] recorded at the first pass (δ = 0)
  auto handle = model.hooks().add(point, [&](at::Tensor& act, const harness::HookContext&) {
    // act [rows, pos, d]: add δ of each row's request at its subject token
    if (!v0.defined()) v0 = act.index({first_row, first_col}).detach().to(at::kFloat);
    const auto at_subject = act.index({row_all, row_col});
    act = act.index_put({row_all, row_col}, at_subject + delta.index_select(0, row_req).to(act.scalar_type()));
  });
  torch::optim::Adam opt({delta}, torch::optim::AdamOptions(p.lr));
  at::Tensor init_kl;                                   // [M, vocab] log P₀ at the essence prompts (δ = 0)
  auto active = at::ones({n_req}, at::TensorOptions().dtype(at::kBool).device(dev));
  // Each request's bookkeeping at its last active step, kept on the device between host looks.
  const auto stats_options = at::TensorOptions().dtype(at::kDouble).device(dev);
  auto last = at::zeros({4, n_req}, stats_options);  // loss, nll, kl, steps
  const int64_t check_every =
      options.stop_check_every > 0 ? options.stop_check_every : (dev.is_cuda() ? int64_t{8} : int64_t{1});
  at::Tensor v0_norm;
  for (int64_t it = 0; it < p.num_steps; ++it) {
    harness::KVCache step_cache = prefix_cache;  // the forward appends to its copy; the prefix stays
    harness::ForwardOptions fo;
    fo.attention_mask = suffix_mask;
    if (split) fo.cache = &step_cache;
    const auto logits = model.forward(ids, fo);  // [rows, pos, vocab]
    if (it == 0) v0_norm = v0.norm(2, {1});  // [n_req]
    const auto lp = at::log_softmax(logits.index({tgt_row, tgt_pos}).to(at::kFloat), -1)
                        .gather(1, tgt_tok.unsqueeze(1))
                        .squeeze(1);  // [N]
    const auto nll = at::zeros({n_req}, lp.options()).index_add(0, tgt_req, -lp * tgt_w);
    auto kl = at::zeros({n_req}, lp.options());
    if (!c.kl_row.empty()) {
      const auto cur = at::log_softmax(logits.index({kl_row, kl_col}).to(at::kFloat), -1);  // [M, vocab]
      if (!init_kl.defined()) init_kl = cur.detach();
      // KL(P_δ ‖ P₀) = Σ P_δ (log P_δ − log P₀): the paper's eq. 4 and the reference's
      // kl_div(input=log P₀, target=log P_δ, log_target=True), averaged over the essence prompts.
      kl = kl.index_add(0, kl_req, (cur.exp() * (cur - init_kl)).sum(1) / kl_per_req);
    }
    const auto loss = nll + p.kl_factor * kl + p.weight_decay * delta.norm(2, {1}) / v0_norm.pow(2);
    // Bookkeeping stays on the device; the host looks only every check_every
    // steps (one copy of one flag), never per request: .item() per element costs
    // a sync each on a GPU and microseconds each on the CPU at MEMIT's 1000 edits.
    const auto was_active = active;
    active = active & (loss.detach() >= p.early_stop_loss);
    const auto now = at::stack({loss.detach().to(at::kDouble), nll.detach().to(at::kDouble),
                                kl.detach().to(at::kDouble), at::full({n_req}, double(it + 1), stats_options)});
    last = at::where(was_active.unsqueeze(0), now, last);
    if (it == p.num_steps - 1) break;
    if ((it + 1) % check_every == 0 && !active.any().item<bool>()) break;
    opt.zero_grad();
    (loss * active.to(loss.scalar_type())).sum().backward();
    const auto before = delta.detach().clone();
    opt.step();
    c10::NoGradGuard ng;
    // Frozen requests keep their δ (Adam's momentum would move them); then the norm clamp.
    delta.copy_(at::where(active.unsqueeze(1), delta, before));
    const auto max_norm = p.clamp_norm_factor * v0_norm;
    const auto norm = delta.norm(2, {1});
    delta.mul_(at::where(norm > max_norm, max_norm / norm, at::ones_like(norm)).unsqueeze(1));
  }
  const auto v0_c = v0.to(at::kFloat).cpu(), delta_c = delta.detach().cpu();
  const auto host = last.to(at::kCPU).contiguous();
  const auto h = host.accessor<double, 2>();  // [4, n_req]
  for (int64_t r = 0; r < n_req; ++r) {
    ValueResult v;
    v.loss = h[0][r];
    v.nll = h[1][r];
    v.kl = h[2][r];
    v.steps = static_cast<int64_t>(h[3][r]);
    v.early_stopped = v.loss < p.early_stop_loss;
    v.v0 = v0_c[r].clone();
    v.delta = delta_c[r].clone();
    out.push_back(std::move(v));
  }
}

}  // namespace

std::vector<ValueResult> optimize_values(harness::TextModel& tm, const std::vector<EditRequest>& requests,
                                         const std::vector<std::string>& templates, harness::HookPoint point,
                                         const ValueParams& params, const ValueOptions& options) {
  TORCH_CHECK(!templates.empty() && templates.front() == "{}", "optimize_values: the first template must be \"{}\"");
  c10::AutoGradMode grad(true);
  const Tf32Scope tf32(params.allow_tf32 && tm.model().device().is_cuda());
  const int64_t vocab = tm.model().config().vocab_size;
  std::vector<ValueResult> out;
  out.reserve(requests.size());
  Chunk chunk;
  for (const auto& r : requests) {
    Chunk one;
    add_request(one, tm, r, templates, params);
    const auto max_len = static_cast<int64_t>(std::max(chunk.max_len, one.max_len));
    const auto elements = static_cast<int64_t>(chunk.rows.size() + one.rows.size()) * max_len * vocab;
    if (!chunk.rows.empty() && elements > options.max_batch_elements) {
      optimize_chunk(tm, chunk, point, params, options, out);
      chunk = Chunk();
    }
    add_request(chunk, tm, r, templates, params);
  }
  if (!chunk.rows.empty()) optimize_chunk(tm, chunk, point, params, options, out);
  return out;
}

}  // namespace editgate::editors
