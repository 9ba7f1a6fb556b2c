#include "editors/context_templates.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <optional>

#include "harness/input_error.h"
#include "harness/scoring.h"

namespace editgate::editors {
namespace {

// Samples `count` continuations of `start` ([len] ids) up to `length` tokens in
// total, top-k, on a CPU generator so the draw is the same on every device.
std::vector<std::vector<int64_t>> sample_rows(harness::TextModel& tm, const std::vector<int64_t>& start, int64_t count,
                                              int64_t length, int64_t top_k, std::optional<int64_t> stop,
                                              at::Generator& gen) {
  auto& model = tm.model();
  const auto& tok = tm.tokenizer();
  std::vector<int64_t> banned;
  for (const auto& id : {tok.bos_id(), tok.eos_id(), tok.pad_id(), tok.unk_id()}) {
    if (id && *id >= 0 && *id < model.config().vocab_size) banned.push_back(*id);
  }
  const auto banned_t = at::tensor(banned, at::kLong);
  at::Tensor ids = at::tensor(start, at::kLong).unsqueeze(0).repeat({count, 1});  // [count, len] CPU
  while (ids.size(1) < length) {
    auto logits = model.forward(ids.to(model.device())).select(1, -1).to(at::kFloat).cpu();  // [count, vocab]
    if (!banned.empty()) logits.index_fill_(1, banned_t, -std::numeric_limits<float>::infinity());
    // Ids past the tokenizer (padded embedding rows) have no text.
    if (tok.vocab_size() < logits.size(1)) logits.narrow(1, tok.vocab_size(), logits.size(1) - tok.vocab_size()).fill_(-std::numeric_limits<float>::infinity());
    const auto [top_vals, top_idx] = logits.topk(std::min<int64_t>(top_k, logits.size(1)), 1);
    const auto probs = at::softmax(top_vals, 1);
    const auto pick = at::multinomial(probs, 1, false, gen);  // [count, 1]
    ids = at::cat({ids, top_idx.gather(1, pick)}, 1);
  }
  std::vector<std::vector<int64_t>> out;
  for (int64_t r = 0; r < count; ++r) {
    const auto row = ids[r].contiguous();
    std::vector<int64_t> v(row.data_ptr<int64_t>(), row.data_ptr<int64_t>() + row.numel());
    if (stop) {
      // Cut after the first stop word sampled past the start (the draw itself is unchanged).
      const auto it = std::find(v.begin() + static_cast<std::ptrdiff_t>(start.size()), v.end(), *stop);
      if (it != v.end()) v.erase(it + 1, v.end());
    }
    out.push_back(std::move(v));
  }
  return out;
}

std::string clean(std::string text) {
  for (char& c : text) {
    if (c == '{' || c == '}') c = ' ';
  }
  return text;
}

}  // namespace

std::vector<std::string> sample_context_templates(harness::TextModel& tm, const ContextTemplateParams& params,
                                                  uint64_t seed) {
  if (!params.fixed.empty()) {
    std::vector<std::string> out;
    for (const auto& group : params.fixed) out.insert(out.end(), group.begin(), group.end());
    return out;
  }
  c10::NoGradGuard no_grad;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  std::vector<std::string> out = {"{}"};
  std::optional<int64_t> stop;
  if (!params.stop_word.empty()) {
    const auto ids = tm.encode_continuation(params.stop_word);
    TORCH_CHECK(ids.size() == 1, "context_stop_word '", params.stop_word, "' is not one token");
    stop = ids.front();
  }
  const auto bos = tm.tokenizer().bos_id() ? tm.tokenizer().bos_id() : tm.model().config().bos_token_id;
  for (const auto& [length, count] : params.length_count) {
    if (count == 0) continue;
    if (params.seed_words.empty()) {
      TORCH_CHECK(bos.has_value(), "context templates: the model has no BOS token; set context_seed_words");
      for (const auto& row : sample_rows(tm, {*bos}, count, length, params.top_k, stop, gen)) {
        const std::vector<int64_t> body(row.begin() + 1, row.end());
        out.push_back(clean(tm.decode(body)) + params.separator + "{}");
      }
      continue;
    }
    // The reference draws count / |seed words| per seed word (MEMIT: 5 words, 1 each).
    const auto n_words = static_cast<int64_t>(params.seed_words.size());
    for (int64_t w = 0; w < n_words; ++w) {
      const int64_t n = count / n_words + (w < count % n_words ? 1 : 0);
      if (n == 0) continue;
      const auto start = tm.encode_prompt(params.seed_words[static_cast<size_t>(w)]);
      const int64_t skip = tm.adds_bos() ? 1 : 0;
      for (const auto& row : sample_rows(tm, start, n, std::max<int64_t>(length + skip, start.size()),
                                         params.top_k, stop, gen)) {
        const std::vector<int64_t> body(row.begin() + skip, row.end());
        out.push_back(clean(tm.decode(body)) + params.separator + "{}");
      }
    }
  }
  return out;
}

std::vector<int64_t> context_template_groups(const ContextTemplateParams& params) {
  std::vector<int64_t> out;
  if (!params.fixed.empty()) {
    for (const auto& group : params.fixed) out.push_back(static_cast<int64_t>(group.size()));
    return out;
  }
  out.push_back(1);  // "{}"
  for (const auto& [length, count] : params.length_count) {
    if (count > 0) out.push_back(count);  // the sampler emits exactly `count` per entry, seed words or not
  }
  return out;
}

SubjectPrompt encode_subject_prompt(const harness::TextModel& tm, const std::string& prompt,
                                    const std::string& subject, const std::string& case_id) {
  const size_t slot = prompt.find("{}");
  TORCH_CHECK(slot != std::string::npos, "encode_subject_prompt: no {} in ", prompt);
  std::string text = prompt;
  text.replace(slot, 2, subject);
  SubjectPrompt out;
  out.ids = tm.encode_prompt(text);
  // As the reference does: the subject's last token is the last token of the
  // text up to the end of the subject.
  const auto upto = tm.encode_prompt(text.substr(0, slot + subject.size()));
  // The reference (repr_tools.get_words_idxs_in_templates) moves the space
  // before the subject into it: byte-level BPE merges " France" into one token,
  // so "The capital of " would end in a lone space token that "...of France" lacks.
  std::string prefix = text.substr(0, slot);
  if (!prefix.empty() && prefix.back() == ' ') prefix.pop_back();
  const auto before = tm.encode_prompt(prefix);
  if (upto.size() <= before.size() || upto.size() > out.ids.size()) {
    throw InputError("", "case_id " + case_id + ": requested_rewrite.subject",
                     "a subject that encodes to at least one token of its own", "'" + subject + "'");
  }
  out.subject_last = static_cast<int64_t>(upto.size()) - 1;
  return out;
}

std::string in_template(const std::string& context_template, const std::string& prompt) {
  std::string out = context_template;
  const size_t slot = out.rfind("{}");
  TORCH_CHECK(slot != std::string::npos, "context template without {}: ", context_template);
  out.replace(slot, 2, prompt);
  return out;
}

std::vector<int64_t> encode_target(const harness::TextModel& tm, const std::string& target, const std::string& case_id,
                                   const std::string& field) {
  auto ids = tm.encode_continuation(with_leading_space(target));
  if (ids.empty()) {
    throw InputError("", "case_id " + case_id + ": " + field, "a target that encodes to at least one token",
                     "'" + target + "'");
  }
  return ids;
}

}  // namespace editgate::editors
