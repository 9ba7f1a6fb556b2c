// Fluency: does the edit make generation repetitive? ROME's n-gram entropy of
// greedy generations on the cases' generation prompts, base vs edited.

#include <chrono>
#include <cmath>
#include <map>
#include <sstream>

#include "suites/model_queries.h"
#include "suites/suites.h"

namespace editgate::suites {

double ngram_entropy(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream in(text);
  for (std::string w; in >> w;) words.push_back(w);
  const std::pair<size_t, double> orders[] = {{2, 2.0 / 3.0}, {3, 4.0 / 3.0}};
  double total = 0;
  for (const auto& [n, weight] : orders) {
    std::map<std::string, int64_t> counts;
    int64_t all = 0;
    for (size_t i = 0; i + n <= words.size(); ++i) {
      std::string gram;
      for (size_t k = 0; k < n; ++k) gram += words[i + k] + '\x1f';
      ++counts[gram];
      ++all;
    }
    double h = 0;
    for (const auto& [gram, c] : counts) {
      const double p = static_cast<double>(c) / static_cast<double>(all);
      h -= p * std::log2(p);
    }
    total += weight * h;
  }
  return total / 2.0;  // mean over the two orders, with ROME's weights
}

harness::SuiteResult run_fluency(SuiteContext& ctx) {
  const auto t0 = std::chrono::steady_clock::now();
  harness::SuiteResult suite;
  suite.name = "Fluency";
  std::vector<std::string> prompts;
  for (const auto& e : ctx.cases.edits) {
    for (const auto& p : e.generation_prompts) {
      if (static_cast<int64_t>(prompts.size()) < ctx.options.max_generation_prompts) prompts.push_back(p);
    }
  }
  if (prompts.empty()) {
    suite.skipped = true;
    suite.skip_reason = "the requests have no generation_prompts";
    return suite;
  }
  const auto base = generate_text(ctx.base, prompts, ctx.options.fluency_max_new_tokens, ctx.base_cache);
  const auto edited = generate_text(ctx.edited, prompts, ctx.options.fluency_max_new_tokens);
  double h_base = 0, h_edited = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    h_base += ngram_entropy(prompts[i] + base[i]);
    h_edited += ngram_entropy(prompts[i] + edited[i]);
  }
  const double n = static_cast<double>(prompts.size());
  h_base /= n;
  h_edited /= n;
  harness::CaseResult c;
  c.name = "generation_entropy";
  c.case_id = "generation_prompts";
  c.metrics.push_back({"ngram_entropy", h_edited, 0, {}, {}, "counterfact", ""});
  c.metrics.push_back({"ngram_entropy_base", h_base, 0, {}, {}, "counterfact", ""});
  const double drop = h_base > 0 ? (h_base - h_edited) / h_base : 0.0;
  suite.metrics.push_back({"ngram_entropy", h_edited, static_cast<int64_t>(n), {}, {}, "counterfact",
                           "mean n-gram entropy of greedy generations, edited model"});
  suite.metrics.push_back({"ngram_entropy_base", h_base, static_cast<int64_t>(n), {}, {}, "counterfact",
                           "the same for the base model"});
  suite.metrics.push_back({"entropy_relative_drop", drop, static_cast<int64_t>(n), {}, {}, "",
                           "(base - edited) / base entropy"});
  suite.cases.push_back(std::move(c));
  suite.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return suite;
}

}  // namespace editgate::suites
