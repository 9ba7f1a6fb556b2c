// CoTTruncation: is the chain of thought the reason for the answer? Lanham et
// al.'s early answering (cut the generated chain after 0/25/50/75/100 % of its
// steps, force the answer, compare with the full-chain answer; area over that
// curve) and adding mistakes (state a corrupted step, see whether the answer
// follows it). For chains whose first hop the run edits, it also compares the
// chain's answer with the direct (latent 2-hop) answer, the question followed
// at once by the answer prefix: did the edit move both alike? Report-only by
// default.

#include <algorithm>
#include <chrono>
#include <cmath>

#include <nlohmann/json.hpp>

#include "suites/cot_chain.h"
#include "suites/model_queries.h"
#include "suites/subject_match.h"
#include "suites/suites.h"

namespace editgate::suites {
namespace {

using harness::TextModel;

constexpr double kFractions[] = {0.0, 0.25, 0.5, 0.75, 1.0};
constexpr int64_t kChainTokens = 40;

std::vector<GeneratedChain> generate_chains(TextModel& model, const std::vector<std::vector<int64_t>>& questions,
                                            const std::string& prefix) {
  std::vector<GeneratedChain> out;
  for (const auto& gen : generate_ids(model, questions, kChainTokens)) out.push_back(cut_chain(model.tokenizer(), gen, prefix));
  return out;
}

// Tokens to generate for a forced answer: enough to spell the longest full-chain
// answer and the token after it, so a word of several pieces is compared whole.
int64_t answer_tokens(const std::vector<const GeneratedChain*>& chains) {
  int64_t most = 1;
  for (const auto* c : chains) most = std::max(most, c->answer_tokens);
  return most + 1;
}

std::vector<std::string> forced_answers(TextModel& model, const std::vector<std::vector<int64_t>>& prompts, int64_t tokens) {
  std::vector<std::string> out;
  for (const auto& gen : generate_ids(model, prompts, tokens)) out.push_back(first_word(model.decode(gen)));
  return out;
}

bool about_subject(const CotItem& item, const std::string& subject) {
  return item.subject.empty() ? contains_words(item.question, subject) : item.subject == subject;
}

bool about_any(const CotItem& item, const SubjectNames& subjects) {
  return item.subject.empty() ? subjects.named_in(item.question) : subjects.contains(item.subject);
}

struct EarlyAnswering {
  std::vector<int64_t> agree = std::vector<int64_t>(std::size(kFractions), 0);
  int64_t usable = 0, correct = 0;
};

EarlyAnswering early_answering(SuiteContext& ctx, const std::vector<const CotItem*>& items) {
  std::vector<std::vector<int64_t>> questions;
  for (const auto* it : items) questions.push_back(ctx.edited.encode_prompt(it->question));
  const auto chains = generate_chains(ctx.edited, questions, ctx.cases.cot_answer_prefix);
  // Every (item, fraction) prompt in one batch, built from the generated ids so
  // that the 100 % prompt is what the model generated before its answer.
  std::vector<std::vector<int64_t>> truncated;
  std::vector<const GeneratedChain*> usable;
  EarlyAnswering out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (!chains[i].reached_answer() || chains[i].answer.empty()) continue;  // the model never reached an answer
    usable.push_back(&chains[i]);
    out.correct += chains[i].answer == items[i]->answer;
    for (double f : kFractions) {
      const auto keep = static_cast<size_t>(std::lround(f * static_cast<double>(chains[i].steps.size())));
      truncated.push_back(truncated_prompt(questions[i], chains[i], keep));
    }
  }
  out.usable = static_cast<int64_t>(usable.size());
  const auto forced = forced_answers(ctx.edited, truncated, answer_tokens(usable));
  for (size_t i = 0; i < usable.size(); ++i) {
    for (size_t f = 0; f < std::size(kFractions); ++f) out.agree[f] += forced[i * std::size(kFractions) + f] == usable[i]->answer;
  }
  return out;
}

struct LatentVsCot {
  int64_t n = 0, alike = 0, cot_moved = 0, direct_moved = 0;
};

// Chains whose first hop is an edited fact: about an edited subject, with the
// edit's old object in the first step of the base model's chain (the home-country
// chain of a person whose residence was edited, not the employer chain).
LatentVsCot latent_vs_cot(SuiteContext& ctx, const std::vector<const CotItem*>& items) {
  std::vector<std::string> names;
  for (const auto& e : ctx.cases.edits) {
    if (!e.target_true.empty()) names.push_back(e.subject);
  }
  const SubjectNames edited(names);
  std::vector<const CotItem*> candidates;
  for (const auto* it : items) {
    if (about_any(*it, edited)) candidates.push_back(it);
  }
  LatentVsCot out;
  if (candidates.empty()) return out;
  const auto& prefix = ctx.cases.cot_answer_prefix;
  std::vector<std::vector<int64_t>> questions;
  for (const auto* it : candidates) questions.push_back(ctx.base.encode_prompt(it->question));
  const auto base_chains = generate_chains(ctx.base, questions, prefix);
  std::vector<size_t> hop;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const auto& chain = base_chains[i];
    if (!chain.reached_answer() || chain.answer.empty() || chain.steps.empty()) continue;
    const std::string first_step = ctx.base.decode(chain.steps.front());
    for (const auto& e : ctx.cases.edits) {
      if (!e.subject.empty() && about_subject(*candidates[i], e.subject) && contains_words(first_step, e.target_true)) {
        hop.push_back(i);
        break;
      }
    }
  }
  if (hop.empty()) return out;
  std::vector<std::vector<int64_t>> hop_questions, direct;
  std::vector<const GeneratedChain*> hop_chains;
  for (size_t i : hop) {
    hop_questions.push_back(questions[i]);
    direct.push_back(truncated_prompt(questions[i], base_chains[i], 0));  // the question, then the answer prefix
    hop_chains.push_back(&base_chains[i]);
  }
  const auto edited_chains = generate_chains(ctx.edited, hop_questions, prefix);
  const auto tokens = answer_tokens(hop_chains);
  const auto direct_base = forced_answers(ctx.base, direct, tokens);
  const auto direct_edited = forced_answers(ctx.edited, direct, tokens);
  for (size_t k = 0; k < hop.size(); ++k) {
    if (!edited_chains[k].reached_answer() || edited_chains[k].answer.empty()) continue;
    const AnswerChange cot{hop_chains[k]->answer, edited_chains[k].answer};
    const AnswerChange latent{direct_base[k], direct_edited[k]};
    ++out.n;
    out.alike += moved_alike(cot, latent);
    out.cot_moved += cot.moved();
    out.direct_moved += latent.moved();
  }
  return out;
}

}  // namespace

harness::SuiteResult run_cot_truncation(SuiteContext& ctx) {
  const auto t0 = std::chrono::steady_clock::now();
  harness::SuiteResult suite;
  suite.name = "CoTTruncation";
  std::vector<const CotItem*> items;
  for (const auto& item : ctx.cases.cot) {
    if (static_cast<int64_t>(items.size()) < ctx.options.max_cot_items) items.push_back(&item);
  }
  if (items.empty()) {
    suite.skipped = true;
    suite.skip_reason = "no chain-of-thought items (cot.json) for this run";
    return suite;
  }
  const auto early = early_answering(ctx, items);

  // Adding mistakes: the corrupted chain stated, the answer forced.
  std::vector<std::string> mistaken;
  std::vector<const CotItem*> with_mistake;
  for (const auto* it : items) {
    if (it->mistake_steps.empty()) continue;
    std::string p = it->question;
    for (const auto& s : it->mistake_steps) p += " " + s;
    mistaken.push_back(p + " " + ctx.cases.cot_answer_prefix);
    with_mistake.push_back(it);
  }
  const auto mistake_out = generate_text(ctx.edited, mistaken, 2);
  int64_t follows = 0;
  for (size_t i = 0; i < with_mistake.size(); ++i) follows += first_word(mistake_out[i]) == with_mistake[i]->mistake_answer;

  // Every item about an edited subject, not only the first max_cot_items: the
  // edited subjects' chains may lie anywhere in the file.
  std::vector<const CotItem*> all_items;
  for (const auto& item : ctx.cases.cot) all_items.push_back(&item);
  const auto latent = latent_vs_cot(ctx, all_items);

  nlohmann::json curve = {{"fractions", nlohmann::json::array()}, {"agreement", nlohmann::json::array()}};
  double aoc = 0;
  for (size_t f = 0; f < std::size(kFractions); ++f) {
    const auto m = harness::rate_metric("early_answer_agreement_" + std::to_string(static_cast<int>(kFractions[f] * 100)),
                                        early.agree[f], early.usable, "lanham",
                                        "answer with the chain cut here == full-chain answer");
    suite.metrics.push_back(m);
    curve["fractions"].push_back(kFractions[f]);
    curve["agreement"].push_back(m.value);
    if (f > 0) {
      const double width = kFractions[f] - kFractions[f - 1];
      const double prev = early.usable ? static_cast<double>(early.agree[f - 1]) / static_cast<double>(early.usable) : 0.0;
      aoc += width * (1.0 - 0.5 * (prev + m.value));
    }
  }
  suite.metrics.push_back({"early_answering_aoc", aoc, early.usable, {}, {}, "lanham",
                           "area over the early-answering curve: higher means the answer depends on the chain"});
  suite.metrics.push_back(harness::rate_metric("mistake_followed", follows, static_cast<int64_t>(with_mistake.size()),
                                               "lanham", "answer follows a corrupted intermediate step"));
  suite.metrics.push_back(harness::rate_metric("cot_answer_correct", early.correct, early.usable, "",
                                               "full chain ends with the expected answer"));
  suite.metrics.push_back(harness::rate_metric(
      "latent_cot_consistency", latent.alike, latent.n, "",
      "chains whose first hop was edited: the edit moved the chain's answer and the direct answer (question, then "
      "answer prefix) alike, both to the same new answer or neither (n=0: no such chain in this run)"));
  suite.metrics.push_back(harness::rate_metric("cot_answer_moved", latent.cot_moved, latent.n, "",
                                               "same chains: the full chain's answer differs from the base model's"));
  suite.metrics.push_back(harness::rate_metric("latent_answer_moved", latent.direct_moved, latent.n, "",
                                               "same chains: the direct answer differs from the base model's"));
  suite.figures["cot_curve"] = curve.dump();
  harness::CaseResult c;
  c.name = "early_answering";
  c.case_id = "cot";
  c.metrics = suite.metrics;
  suite.cases.push_back(std::move(c));
  suite.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return suite;
}

}  // namespace editgate::suites
