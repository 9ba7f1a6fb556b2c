// RippleEffects: the RippleEdits criteria. A query passes when greedy
// generation starts with an accepted answer (or alias); a test counts only
// when its condition queries hold on the base model first, as RippleEdits
// does. Report-only by default: these are findings, not promises.

#include <chrono>
#include <map>

#include "suites/model_queries.h"
#include "suites/suites.h"

namespace editgate::suites {

harness::SuiteResult run_ripple_effects(SuiteContext& ctx) {
  const auto t0 = std::chrono::steady_clock::now();
  harness::SuiteResult suite;
  suite.name = "RippleEffects";
  if (ctx.cases.ripple.empty()) {
    suite.skipped = true;
    suite.skip_reason = "the requests are not in RippleEdits format";
    return suite;
  }
  // Flatten every condition (base model) and test query (edited model) into two batches.
  std::vector<std::string> cond_prompts, test_prompts;
  for (const auto& rc : ctx.cases.ripple) {
    for (const auto& t : rc.tests) {
      for (const auto& q : t.conditions) cond_prompts.push_back(q.prompt);
      for (const auto& q : t.tests) test_prompts.push_back(q.prompt);
    }
  }
  const int64_t max_new = ctx.options.ripple_max_new_tokens;
  const auto cond_out = generate_text(ctx.base, cond_prompts, max_new, ctx.base_cache);
  const auto test_out = generate_text(ctx.edited, test_prompts, max_new);

  std::map<std::string, std::pair<int64_t, int64_t>> per_criterion;  // passed, counted
  size_t ci = 0, ti = 0;
  for (const auto& rc : ctx.cases.ripple) {
    harness::CaseResult c;
    c.name = sanitize_case_name("case_" + rc.edit.case_id);
    c.case_id = rc.edit.case_id;
    for (const auto& t : rc.tests) {
      bool any = false, all = true;
      for (const auto& q : t.conditions) {
        const bool ok = starts_with_answer(cond_out[ci++], q.answers);
        any = any || ok;
        all = all && ok;
      }
      const bool condition = t.conditions.empty() || (t.condition_all ? all : any);
      bool passed = true;
      std::string failed_prompt;
      for (const auto& q : t.tests) {
        const bool ok = starts_with_answer(test_out[ti], q.answers);
        if (!ok && failed_prompt.empty()) failed_prompt = "'" + q.prompt + "' gave '" + test_out[ti] + "'";
        passed = passed && ok;
        ++ti;
      }
      if (!condition) continue;
      auto& [p, n] = per_criterion[t.criterion];
      ++n;
      p += passed;
      if (!passed) {
        c.passed = false;
        c.message += (c.message.empty() ? "" : "; ") + t.criterion + ": " + failed_prompt;
      }
    }
    suite.cases.push_back(std::move(c));
  }
  int64_t all_p = 0, all_n = 0;
  for (const auto& [criterion, pn] : per_criterion) {
    std::string name;
    for (char ch : criterion) name += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    suite.metrics.push_back(harness::rate_metric(name, pn.first, pn.second, "rippleedits",
                                                 criterion + ": tests whose conditions held on the base model"));
    all_p += pn.first;
    all_n += pn.second;
  }
  suite.metrics.push_back(harness::rate_metric("ripple_overall", all_p, all_n, "rippleedits", "every criterion"));
  suite.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return suite;
}

}  // namespace editgate::suites
