#pragma once
// The batched questions suites ask a model: how likely is this target after
// this prompt (CounterFact's mean per-token NLL, EasyEdit's teacher-forced
// token accuracy), what is its top-1 next token, what does it generate. Thin
// wrappers over harness scoring/generation that take text and encode it the
// way the model expects (TextModel), so every suite encodes alike. Given a
// BaseResultsCache (only ever for the base), an answer asked before is read
// from it and a new one stored; the question is the token ids.

#include <string>
#include <vector>

#include "harness/text_model.h"
#include "suites/base_results_cache.h"

namespace editgate::suites {

struct TargetScore {
  double mean_nll = 0;        // CounterFact: -mean log P(target tokens)
  double token_accuracy = 0;  // EasyEdit: share of target tokens that are the teacher-forced argmax
  bool top1 = false;          // every target token is the argmax: the model says the target
};

// Scores `targets[i]` after `prompts[i]` (targets get ROME's leading space).
std::vector<TargetScore> score_targets(harness::TextModel& model, const std::vector<std::string>& prompts,
                                       const std::vector<std::string>& targets, BaseResultsCache* cache = nullptr);

// Top-1 next token after each prompt.
std::vector<int64_t> top1_next(harness::TextModel& model, const std::vector<std::string>& prompts,
                               BaseResultsCache* cache = nullptr);

// Greedy continuations (text) of each prompt.
std::vector<std::string> generate_text(harness::TextModel& model, const std::vector<std::string>& prompts,
                                       int64_t max_new_tokens, BaseResultsCache* cache = nullptr);

// Greedy continuations (new ids) of prompts already encoded.
std::vector<std::vector<int64_t>> generate_ids(harness::TextModel& model, const std::vector<std::vector<int64_t>>& prompts,
                                               int64_t max_new_tokens, BaseResultsCache* cache = nullptr);

// True when `generated` (leading whitespace ignored) starts with one of `answers` as whole words.
bool starts_with_answer(const std::string& generated, const std::vector<std::string>& answers);

}  // namespace editgate::suites
