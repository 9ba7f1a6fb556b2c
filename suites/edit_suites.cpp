// Efficacy, ParaphraseGeneralization and FactPreservation: the three
// CounterFact-style questions about an edit, each answered for every case in
// one batched pass per model.

#include <chrono>
#include <map>

#include "suites/model_queries.h"
#include "suites/subject_match.h"
#include "suites/suites.h"

namespace editgate::suites {
namespace {

using harness::CaseResult;
using harness::Metric;
using harness::rate_metric;
using harness::SuiteResult;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

Metric mean_metric(std::string name, double sum, int64_t n, std::string family, std::string description) {
  Metric m;
  m.name = std::move(name);
  m.value = n > 0 ? sum / static_cast<double>(n) : 0.0;
  m.family = std::move(family);
  m.description = std::move(description);
  return m;
}

std::string case_name(const editors::EditRequest& r) { return sanitize_case_name("case_" + r.case_id); }

SubjectNames edited_subjects(const std::vector<editors::EditRequest>& edits) {
  std::vector<std::string> names;
  for (const auto& e : edits) names.push_back(e.subject);
  return SubjectNames(names);
}

// True when `fact` is about one of the edited subjects (by its subject field, or,
// for files without one, by the subject's name in the prompt as whole words).
bool about_edited_subject(const PreservationFact& fact, const SubjectNames& edited) {
  return fact.subject.empty() ? edited.named_in(fact.prompt) : edited.contains(fact.subject);
}

// Edit suites have nothing to measure in a run without edit requests (an erasure-only gate).
bool skip_without_edits(const SuiteContext& ctx, SuiteResult& suite) {
  if (!ctx.cases.edits.empty()) return false;
  suite.skipped = true;
  suite.skip_reason = "no edit requests in this run";
  return true;
}

}  // namespace

SuiteResult run_efficacy(SuiteContext& ctx) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto& edits = ctx.cases.edits;
  std::vector<std::string> prompts, news, olds;
  for (const auto& e : edits) {
    prompts.push_back(e.filled_prompt());
    news.push_back(e.target_new);
  }
  const auto s_new = score_targets(ctx.edited, prompts, news);
  std::vector<std::string> p_old;
  std::vector<size_t> old_index(edits.size(), SIZE_MAX);
  for (size_t i = 0; i < edits.size(); ++i) {
    if (edits[i].target_true.empty()) continue;
    old_index[i] = olds.size();
    p_old.push_back(prompts[i]);
    olds.push_back(edits[i].target_true);
  }
  const auto s_old = score_targets(ctx.edited, p_old, olds);

  SuiteResult suite;
  suite.name = "Efficacy";
  if (skip_without_edits(ctx, suite)) return suite;
  int64_t top1 = 0, cf_success = 0, cf_n = 0;
  double token_acc = 0;
  for (size_t i = 0; i < edits.size(); ++i) {
    CaseResult c;
    c.name = case_name(edits[i]);
    c.case_id = edits[i].case_id;
    c.passed = s_new[i].top1;
    top1 += s_new[i].top1;
    token_acc += s_new[i].token_accuracy;
    c.metrics.push_back({"new_top1", s_new[i].top1 ? 1.0 : 0.0, 0, {}, {}, "easyedit", ""});
    c.metrics.push_back({"new_mean_nll", s_new[i].mean_nll, 0, {}, {}, "counterfact", ""});
    if (old_index[i] != SIZE_MAX) {
      const bool success = s_new[i].mean_nll < s_old[old_index[i]].mean_nll;
      cf_success += success;
      ++cf_n;
      c.metrics.push_back({"old_mean_nll", s_old[old_index[i]].mean_nll, 0, {}, {}, "counterfact", ""});
    }
    if (!c.passed) {
      c.message = "'" + prompts[i] + "' does not give the new object '" + edits[i].target_new +
                  "' (token accuracy " + std::to_string(s_new[i].token_accuracy) + ")";
    }
    suite.cases.push_back(std::move(c));
  }
  const auto n = static_cast<int64_t>(edits.size());
  suite.metrics.push_back(rate_metric("efficacy_top1", top1, n, "easyedit",
                                      "edit prompt: every target token is the model's top-1"));
  suite.metrics.push_back(rate_metric("efficacy_counterfact_success", cf_success, cf_n, "counterfact",
                                      "edit prompt: P(new) > P(old) by mean per-token NLL"));
  suite.metrics.push_back(mean_metric("efficacy_token_accuracy", token_acc, n, "easyedit",
                                      "edit prompt: mean teacher-forced token accuracy of the new object"));
  suite.seconds = seconds_since(t0);
  return suite;
}

SuiteResult run_paraphrase_generalization(SuiteContext& ctx) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto& edits = ctx.cases.edits;
  // Paraphrases count only where the base model already answered them with the
  // old object: a paraphrase the model never knew cannot show generalisation.
  std::vector<std::string> prompts, olds, news;
  std::vector<size_t> owner;
  for (size_t i = 0; i < edits.size(); ++i) {
    if (edits[i].target_true.empty()) continue;
    for (const auto& p : edits[i].paraphrase_prompts) {
      prompts.push_back(p);
      olds.push_back(edits[i].target_true);
      news.push_back(edits[i].target_new);
      owner.push_back(i);
    }
  }
  const auto base_old = score_targets(ctx.base, prompts, olds, ctx.base_cache);
  const auto edited_new = score_targets(ctx.edited, prompts, news);
  const auto edited_old = score_targets(ctx.edited, prompts, olds);

  SuiteResult suite;
  suite.name = "ParaphraseGeneralization";
  if (skip_without_edits(ctx, suite)) return suite;
  std::vector<CaseResult> cases(edits.size());
  for (size_t i = 0; i < edits.size(); ++i) {
    cases[i].name = case_name(edits[i]);
    cases[i].case_id = edits[i].case_id;
  }
  int64_t counted = 0, top1 = 0, cf_success = 0, all_top1 = 0;
  for (size_t k = 0; k < prompts.size(); ++k) {
    all_top1 += edited_new[k].top1;
    if (!base_old[k].top1) continue;
    ++counted;
    top1 += edited_new[k].top1;
    cf_success += edited_new[k].mean_nll < edited_old[k].mean_nll;
    if (!edited_new[k].top1) {
      auto& c = cases[owner[k]];
      c.passed = false;
      c.message += (c.message.empty() ? "" : "; ") + ("'" + prompts[k] + "' does not give '" + news[k] + "'");
    }
  }
  suite.cases = std::move(cases);
  suite.metrics.push_back(rate_metric("paraphrase_top1", top1, counted, "easyedit",
                                      "held-out paraphrases the base model answered with the old object: new object top-1"));
  suite.metrics.push_back(rate_metric("paraphrase_counterfact_success", cf_success, counted, "counterfact",
                                      "same paraphrases: P(new) > P(old)"));
  suite.metrics.push_back(rate_metric("paraphrase_top1_all", all_top1, static_cast<int64_t>(prompts.size()), "easyedit",
                                      "every paraphrase, whether or not the base model knew it"));
  suite.seconds = seconds_since(t0);
  return suite;
}

SuiteResult run_fact_preservation(SuiteContext& ctx) {
  const auto t0 = std::chrono::steady_clock::now();
  SuiteResult suite;
  suite.name = "FactPreservation";
  if (skip_without_edits(ctx, suite)) return suite;

  // Neighbourhood: other subjects that share the old object must keep it. Prompts
  // about a subject edited in the same run (co-edited in a batch, or edited earlier
  // in a sequence) are left out and counted.
  // A prompt naming an edited subject (its own case's or another's) is no test of
  // locality: that subject is meant to change.
  const auto& edits = ctx.cases.edits;
  const SubjectNames edited = edited_subjects(edits);
  std::vector<std::string> prompts, olds, news;
  std::vector<size_t> owner;
  int64_t co_edited = 0;
  for (size_t i = 0; i < edits.size(); ++i) {
    if (edits[i].target_true.empty()) continue;
    for (const auto& p : edits[i].neighborhood_prompts) {
      if (edited.named_in(p)) {
        ++co_edited;
        continue;
      }
      prompts.push_back(p);
      olds.push_back(edits[i].target_true);
      news.push_back(edits[i].target_new);
      owner.push_back(i);
    }
  }
  const auto base_old = score_targets(ctx.base, prompts, olds, ctx.base_cache);
  const auto edited_old = score_targets(ctx.edited, prompts, olds);
  const auto edited_new = score_targets(ctx.edited, prompts, news);
  std::vector<CaseResult> cases(edits.size());
  for (size_t i = 0; i < edits.size(); ++i) {
    cases[i].name = "neighborhood_" + case_name(edits[i]);
    cases[i].case_id = edits[i].case_id;
  }
  int64_t counted = 0, kept = 0, cf_kept = 0;
  for (size_t k = 0; k < prompts.size(); ++k) {
    cf_kept += edited_old[k].mean_nll < edited_new[k].mean_nll;
    if (!base_old[k].top1) continue;
    ++counted;
    kept += edited_old[k].top1;
    if (!edited_old[k].top1) {
      auto& c = cases[owner[k]];
      c.passed = false;
      c.message += (c.message.empty() ? "" : "; ") + ("'" + prompts[k] + "' lost '" + olds[k] + "'");
    }
  }
  suite.metrics.push_back(rate_metric("neighborhood_keeps_old", kept, counted, "easyedit",
                                      "neighbourhood prompts the base model answered with the old object: still top-1"));
  suite.metrics.push_back(rate_metric("neighborhood_counterfact_success", cf_kept, static_cast<int64_t>(prompts.size()),
                                      "counterfact", "neighbourhood prompts: P(old) > P(new) after the edit"));
  Metric left_out;
  left_out.name = "neighborhood_left_out_edited";
  left_out.value = static_cast<double>(co_edited);
  left_out.description = "neighbourhood prompts about a subject edited in this run, left out of both rates above";
  suite.metrics.push_back(left_out);

  // Unrelated facts: the top-1 next token must not change, grouped by relation
  // so a failure names the facts it broke.
  const auto& facts = ctx.cases.preservation;
  if (!facts.empty()) {
    // A fact about an edited subject is not unrelated: whether the subject's other
    // relations survive is RippleEffects' Relation_Specificity, so those facts are
    // left out here and counted in the suite's notes.
    std::vector<std::string> fprompts;
    std::vector<const PreservationFact*> kept_facts;
    int64_t about_edited = 0;
    for (const auto& f : facts) {
      if (about_edited_subject(f, edited)) {
        ++about_edited;
        continue;
      }
      fprompts.push_back(f.prompt);
      kept_facts.push_back(&f);
    }
    const auto before = top1_next(ctx.base, fprompts, ctx.base_cache);
    const auto after = top1_next(ctx.edited, fprompts);
    std::map<std::string, CaseResult> by_relation;
    std::map<std::string, int> broken_listed;
    int64_t unchanged = 0;
    for (size_t i = 0; i < kept_facts.size(); ++i) {
      const std::string rel = kept_facts[i]->relation.empty() ? "facts" : kept_facts[i]->relation;
      auto& c = by_relation[rel];
      c.name = sanitize_case_name("unrelated_" + rel);
      c.case_id = rel;
      if (before[i] == after[i]) {
        ++unchanged;
        continue;
      }
      c.passed = false;
      if (broken_listed[rel]++ < 10) {
        c.message += (c.message.empty() ? "" : "; ") + ("'" + fprompts[i] + "': '" + ctx.base.decode({before[i]}) +
                                                        "' became '" + ctx.edited.decode({after[i]}) + "'");
      }
    }
    for (auto& [rel, c] : by_relation) {
      if (broken_listed[rel] > 10) c.message += "; and " + std::to_string(broken_listed[rel] - 10) + " more";
      cases.push_back(std::move(c));
    }
    suite.metrics.push_back(rate_metric("unrelated_unchanged", unchanged, static_cast<int64_t>(kept_facts.size()), "",
                                        "unrelated facts: top-1 next token unchanged vs base (" +
                                            std::to_string(about_edited) +
                                            " facts about edited subjects left out)"));
  }
  suite.cases = std::move(cases);
  suite.seconds = seconds_since(t0);
  return suite;
}

}  // namespace editgate::suites
